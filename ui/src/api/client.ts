/**
 * The one way the UI talks HTTP to the management API: JSON in and out, the session cookie sent
 * by the browser, the CSRF token on every state-changing request, and the common error body
 * `{error, code, details}` turned into an `ApiError` the forms can read field errors from.
 */

/** Query values; `undefined` and empty strings are left out so optional filters stay optional. */
export type Query = Record<string, string | number | boolean | undefined | null>;

export const API_BASE = '/api/v1';

/** A failed request, carrying the server's message, code and details (field paths where given). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The field the server blames, as a dotted path without the `body.` prefix, if it says. */
  get field(): string | undefined {
    const field = this.details['field'] ?? this.details['path'];
    return typeof field === 'string' && field !== '' ? field.replace(/^(body|query|params)\./, '') : undefined;
  }
}

/** True when the request never reached the server or its answer was lost. */
export const NETWORK_ERROR = 'NETWORK';

export interface ApiClientOptions {
  /** The CSRF token of the current session (from `auth/me` or `auth/login`). */
  csrfToken: () => string | undefined;
  /** Called on a 401 so the app can show the login page. */
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Leave out of `onUnauthorized` (the login and session probes expect 401). */
  expectUnauthorized?: boolean;
}

export interface ApiClient {
  request<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, options?: RequestOptions): Promise<T>;
  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T>;
  post<T>(path: string, body?: unknown, query?: Query): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  del<T>(path: string, query?: Query): Promise<T>;
  /** Headers a raw request (an upload) must carry to pass the CSRF check. */
  writeHeaders: () => Record<string, string>;
}

/** `/api/v1/venues?x=1`: the path under the API base with the query's non-empty values. */
export function apiUrl(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`;
}

/** Reads the common error body; anything else (a proxy's HTML page) still yields a usable message. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  // A body that cannot be read (the connection was cut) leaves the status to explain.
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown; details?: unknown };
    if (typeof body.error === 'string') {
      const details = body.details && typeof body.details === 'object' ? (body.details as Record<string, unknown>) : {};
      return new ApiError(
        body.error,
        res.status,
        typeof body.code === 'string' ? body.code : `HTTP_${res.status}`,
        details,
      );
    }
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiError(`The server answered ${res.status} ${res.statusText}`.trim(), res.status, `HTTP_${res.status}`);
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));

  const writeHeaders = (): Record<string, string> => {
    const token = options.csrfToken();
    return token ? { 'X-CSRF-Token': token } : {};
  };

  async function request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (method !== 'GET') Object.assign(headers, writeHeaders());
    if (o.body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(apiUrl(path, o.query), {
        method,
        headers,
        credentials: 'same-origin',
        ...(o.body !== undefined && { body: JSON.stringify(o.body) }),
        ...(o.signal && { signal: o.signal }),
      });
    } catch (cause) {
      if (o.signal?.aborted) throw cause;
      throw new ApiError(
        'The rpi-deploy server cannot be reached; check that it is running and the network cable',
        0,
        NETWORK_ERROR,
      );
    }
    if (!res.ok) {
      const error = await errorFromResponse(res);
      if (res.status === 401 && !o.expectUnauthorized) options.onUnauthorized?.();
      throw error;
    }
    if (res.status === 204) return undefined as T;
    const type = res.headers.get('Content-Type') ?? '';
    return (type.includes('json') ? await res.json() : await res.text()) as T;
  }

  return {
    request,
    get: (path, query, signal) => request('GET', path, { ...(query && { query }), ...(signal && { signal }) }),
    // A bodyless POST sends no body and no Content-Type (the server refuses an empty JSON body).
    post: (path, body, query) =>
      request('POST', path, { ...(body !== undefined && { body }), ...(query && { query }) }),
    patch: (path, body) => request('PATCH', path, { body }),
    del: (path, query) => request('DELETE', path, { ...(query && { query }) }),
    writeHeaders,
  };
}
