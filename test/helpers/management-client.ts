import type { TestServer } from './start-server.js';

/** What a test sees of a management API answer. */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * A browser-like client of the management API: keeps the session cookie, sends the CSRF token and
 * the page's own Origin on changes, as the web UI does. Each can be left out or forged per request.
 */
export class ManagementClient {
  cookie: string | undefined;
  csrf: string | undefined;
  bearer: string | undefined;

  constructor(readonly base: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; csrf?: string | null; origin?: string | null } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookie) headers['cookie'] = this.cookie;
    if (this.bearer) headers['authorization'] = `Bearer ${this.bearer}`;
    const changing = !['GET', 'HEAD'].includes(method);
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (changing && csrf) headers['x-csrf-token'] = csrf;
    const origin = options.origin === undefined ? this.base : options.origin;
    if (changing && origin) headers['origin'] = origin;
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { ...headers, ...options.headers },
      ...(options.body !== undefined && {
        body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
      }),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie?.startsWith('rpd_session=')) {
      const value = setCookie.split(';')[0]!;
      this.cookie = value === 'rpd_session=' ? undefined : value;
    }
    const text = await res.text();
    let body: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: body as T, text };
  }

  get = <T = Record<string, unknown>>(path: string, options?: Parameters<ManagementClient['request']>[2]) =>
    this.request<T>('GET', path, options);
  post = <T = Record<string, unknown>>(
    path: string,
    body?: unknown,
    options: Parameters<ManagementClient['request']>[2] = {},
  ) => this.request<T>('POST', path, { ...options, ...(body !== undefined && { body }) });
  patch = <T = Record<string, unknown>>(
    path: string,
    body: unknown,
    options: Parameters<ManagementClient['request']>[2] = {},
  ) => this.request<T>('PATCH', path, { ...options, body });
  delete = <T = Record<string, unknown>>(path: string, options?: Parameters<ManagementClient['request']>[2]) =>
    this.request<T>('DELETE', path, options);

  async login(username: string, password: string): Promise<Answer> {
    const r = await this.post('/api/v1/auth/login', { username, password });
    if (r.status === 200) this.csrf = r.body['csrfToken'] as string;
    return r;
  }
}

export const PASSWORD = 'correct horse battery';

/** Creates a user directly (as `rpi-deploy user add` does) and returns a client signed in as them. */
export async function signedIn(
  server: TestServer,
  username: string,
  role: 'admin' | 'operator' | 'viewer',
): Promise<ManagementClient> {
  const { createUserService } = await import('../../src/management/index.js');
  const users = createUserService({ store: server.app.store, clock: () => new Date() });
  if (!(await users.list()).some((u) => u.username === username))
    await users.create({ username, password: PASSWORD, role });
  const client = new ManagementClient(server.management);
  const r = await client.login(username, PASSWORD);
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
  return client;
}
