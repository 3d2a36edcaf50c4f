import type {
  Batch,
  BatchInput,
  BatchStatus,
  Deployment,
  Device,
  HistoryEntry,
  PoolEntry,
  PoolImportResult,
  PoolRetireResult,
  PoolStats,
  PoolStatus,
  Product,
  ProductInput,
  Venue,
  VenueInput,
  VenuePatch,
  VenueStats,
} from '../../../src/protocol/fleet.js';
import type { Capture, CaptureRequestInput } from '../../../src/protocol/capture.js';
import type { ImageDiff } from '../../../src/protocol/image-diff.js';
import type { Image } from '../../../src/protocol/images.js';
import type {
  ApiToken,
  ApiTokenCreated,
  ApiTokenInput,
  AuditEntry,
  DeploymentPage,
  DeploymentQuery,
  PasswordChange,
  PoolImportRequest,
  Session,
  SetupRequest,
  SetupStatus,
  SystemStatus,
  User,
  UserInput,
  UserPatch,
} from '../../../src/protocol/management-api.js';
import { apiUrl, type ApiClient } from './client.js';

/** What release and retire answer: the name, and the board it was taken from, if any. */
interface PoolNameChange {
  hostname: string;
  releasedFrom: string | null;
}

/**
 * Every management API route the UI uses (docs/management-api.md), typed by the schemas in
 * `src/protocol/`. Pages call these; components never do.
 */
export function createEndpoints(api: ApiClient) {
  const seg = encodeURIComponent;
  return {
    auth: {
      me: (signal?: AbortSignal) =>
        api.request<Session>('GET', '/auth/me', { expectUnauthorized: true, ...(signal && { signal }) }),
      login: (username: string, password: string) =>
        api.request<Session>('POST', '/auth/login', { body: { username, password }, expectUnauthorized: true }),
      logout: () => api.post<void>('/auth/logout'),
      setupStatus: () => api.get<SetupStatus>('/auth/setup'),
      setup: (input: SetupRequest) => api.post<Session>('/auth/setup', input),
      changePassword: (input: PasswordChange) => api.post<void>('/auth/password', input),
    },
    venues: {
      list: (signal?: AbortSignal) => api.get<Venue[]>('/venues', undefined, signal),
      get: (code: string, signal?: AbortSignal) => api.get<Venue>(`/venues/${seg(code)}`, undefined, signal),
      create: (input: VenueInput) => api.post<Venue>('/venues', input),
      update: (code: string, patch: VenuePatch) => api.patch<Venue>(`/venues/${seg(code)}`, patch),
      remove: (code: string, force = false) =>
        api.del<{ releasedHostnames?: string[] } | undefined>(
          `/venues/${seg(code)}`,
          force ? { force: true } : undefined,
        ),
      stats: (code: string, signal?: AbortSignal) =>
        api.get<VenueStats>(`/venues/${seg(code)}/stats`, undefined, signal),
    },
    products: {
      list: (signal?: AbortSignal) => api.get<Product[]>('/products', undefined, signal),
      create: (input: ProductInput) => api.post<Product>('/products', input),
      remove: (code: string) => api.del<void>(`/products/${seg(code)}`),
    },
    pools: {
      list: (venue: string, filter: { product?: string; status?: PoolStatus } = {}, signal?: AbortSignal) =>
        api.get<PoolEntry[]>(`/venues/${seg(venue)}/pool`, filter, signal),
      import: (venue: string, input: PoolImportRequest) =>
        api.post<PoolImportResult>(`/venues/${seg(venue)}/pool/import`, input),
      retireMany: (venue: string, hostnames: string[]) =>
        api.post<PoolRetireResult>(`/venues/${seg(venue)}/pool/retire`, { hostnames }),
      release: (hostname: string) => api.post<PoolNameChange>(`/pool/${seg(hostname)}/release`),
      retire: (hostname: string, force = false) =>
        api.post<PoolNameChange>(`/pool/${seg(hostname)}/retire`, undefined, force ? { force: true } : undefined),
      stats: (venue?: string, signal?: AbortSignal) => api.get<PoolStats[]>('/pool/stats', { venue }, signal),
    },
    batches: {
      list: (filter: { venue?: string; status?: BatchStatus } = {}, signal?: AbortSignal) =>
        api.get<Batch[]>('/batches', filter, signal),
      get: (id: number) => api.get<Batch>(`/batches/${id}`),
      create: (input: BatchInput) => api.post<Batch>('/batches', input),
      act: (id: number, action: 'activate' | 'pause' | 'cancel') => api.post<Batch>(`/batches/${id}/${action}`),
    },
    deployments: {
      list: (query: DeploymentQuery, signal?: AbortSignal) => api.get<DeploymentPage>('/deployments', query, signal),
      get: (id: number, signal?: AbortSignal) =>
        api.get<{ deployment: Deployment; history: HistoryEntry[] }>(`/deployments/${id}`, undefined, signal),
      /** The CSV download of the same filter (a plain link: the browser saves the file). */
      csvUrl: (query: Omit<DeploymentQuery, 'limit' | 'offset' | 'format'>) =>
        apiUrl('/deployments', { ...query, format: 'csv' }),
    },
    devices: {
      list: (signal?: AbortSignal) => api.get<Device[]>('/devices', undefined, signal),
      get: (serial: string, signal?: AbortSignal) =>
        api.get<{ device: Device; deployments: Deployment[] }>(`/devices/${seg(serial)}`, undefined, signal),
      reimage: (serial: string) => api.post<Device>(`/devices/${seg(serial)}/reimage`),
    },
    captures: {
      list: (signal?: AbortSignal) => api.get<Capture[]>('/captures', undefined, signal),
      request: (input: CaptureRequestInput) => api.post<Capture>('/captures', input),
      cancel: (id: number) => api.post<Capture>(`/captures/${id}/cancel`),
    },
    images: {
      list: (product?: string, signal?: AbortSignal) => api.get<Image[]>('/images', { product }, signal),
      activate: (id: number) => api.post<Image>(`/images/${id}/activate`),
      deactivate: (id: number) => api.post<Image>(`/images/${id}/deactivate`),
      diff: (id: number, from: number, signal?: AbortSignal) =>
        api.get<ImageDiff>(`/images/${id}/diff`, { from }, signal),
      remove: (id: number, force = false) => api.del<void>(`/images/${id}`, force ? { force: true } : undefined),
      /** Where the upload goes (see upload.ts: a raw body with progress events). */
      uploadUrl: (meta: { product: string; version: string; notes?: string; filename: string }) =>
        apiUrl('/images', meta),
    },
    users: {
      list: (signal?: AbortSignal) => api.get<User[]>('/users', undefined, signal),
      create: (input: UserInput) => api.post<User>('/users', input),
      update: (username: string, patch: UserPatch) => api.patch<User>(`/users/${seg(username)}`, patch),
      remove: (username: string) => api.del<void>(`/users/${seg(username)}`),
    },
    tokens: {
      list: (signal?: AbortSignal) => api.get<ApiToken[]>('/tokens', undefined, signal),
      create: (input: ApiTokenInput) => api.post<ApiTokenCreated>('/tokens', input),
      revoke: (id: number) => api.del<ApiToken>(`/tokens/${id}`),
    },
    audit: {
      list: (query: { limit?: number; before?: number }, signal?: AbortSignal) =>
        api.get<AuditEntry[]>('/audit', query, signal),
    },
    system: {
      get: (signal?: AbortSignal) => api.get<SystemStatus>('/system', undefined, signal),
    },
  };
}

export type Endpoints = ReturnType<typeof createEndpoints>;
