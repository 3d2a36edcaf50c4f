import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * One HTTP request with the path sent exactly as given: fetch() and URL normalise `..` and
 * percent-escapes away, which would hide what a hostile client can really send.
 */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: options.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A JSON request; the answer's body parsed when it is JSON. */
export async function jsonRequest(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await rawRequest(base, method, path, {
    headers: { ...(payload !== undefined && { 'content-type': 'application/json' }), ...headers },
    body: payload,
  });
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    parsed = { raw: res.body.toString('utf8').slice(0, 200) };
  }
  return { status: res.status, body: parsed };
}
