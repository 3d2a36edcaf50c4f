import Database from 'better-sqlite3';
import fc from 'fast-check';
import { request } from 'node:http';
import { join } from 'node:path';
import { DATABASE_FILE } from '../../src/app.js';

/** Longest any one fuzzed request may take before it counts as a hang. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** One fuzzed request as sent: method, raw path, headers, raw body. */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface FuzzAnswer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Sends a request with the path exactly as given (no URL normalisation) and resolves with the
 * answer, or rejects after REQUEST_TIMEOUT_MS. An event stream is cut once its headers are in.
 */
export function send(base: string, r: FuzzRequest): Promise<FuzzAnswer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    // A body always goes with its length: Node sends DELETE and OPTIONS bodies unframed otherwise,
    // and the server would rightly read them as the next request.
    const headers =
      r.body === undefined ? r.headers : { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) };
    const req = request(
      { host: url.hostname, port: url.port, method: r.method, path: r.path, headers, agent: false },
      (res) => {
        const contentType = String(res.headers['content-type'] ?? '');
        if (contentType.startsWith('text/event-stream')) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, contentType, body: '' });
          return;
        }
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, contentType, body: Buffer.concat(parts).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => {
      req.destroy();
      reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms: ${r.method} ${r.path}`));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/**
 * What the database holds, table by table, minus what a request may touch without changing
 * anything an operator set up: a session's last-seen time and an API token's last use. The audit
 * trail is left out only where the caller says so (failed sign-ins are audited on purpose).
 */
export function databaseSnapshot(dataDir: string, options: { withAudit: boolean }): string {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[];
    const out: Record<string, unknown[]> = {};
    for (const t of tables) {
      if (t === 'audit' && !options.withAudit) continue;
      const rows = db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all() as Record<string, unknown>[];
      out[t] = rows.map((row) => {
        const { last_seen_at: _seen, last_used_at: _used, ...rest } = row;
        return t === 'sessions' || t === 'api_tokens' ? rest : row;
      });
    }
    return JSON.stringify(out);
  } finally {
    db.close();
  }
}

/** Printable ASCII without the characters Node's client refuses in a header value. */
const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});

/** A JSON value of any shape, nested a little, with the edge cases parsers trip on. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    2 ** 53,
    -(2 ** 63),
    1e308,
    '',
    '\u0000',
    '../../etc/passwd',
    'x'.repeat(5000),
    '__proto__',
    { __proto__: { polluted: 1 } },
  ),
);

/**
 * An object with the keys a route knows: sometimes every key with a plausible value (so requests
 * get past validation into the handlers), more often some keys, each plausible or of any shape,
 * plus stray keys.
 */
export function shapedObject(valid: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(Object.entries(valid).map(([k, v]) => [k, fc.oneof(v, anyJson)]));
  const mixed = fc
    .tuple(
      fc.record(fields, { requiredKeys: [] }),
      fc.dictionary(fc.string({ maxLength: 12 }), anyJson, { maxKeys: 3 }),
    )
    .map(([known, stray]) => ({ ...stray, ...known }));
  return fc.oneof(fc.record(valid), mixed);
}

/** A body as sent: JSON of `value`, or text that is not JSON at all, or nothing. */
export function bodyOf(value: fc.Arbitrary<unknown>): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 6, arbitrary: value.map((v) => JSON.stringify(v)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('{', '{"a":', '[1,2', 'null', '"', '\u0000\u0001', '{"a":1}{"b":2}', ' '.repeat(100)),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** A path parameter: sometimes plausible, often hostile (traversal, escapes, huge, unicode). */
export function param(plausible: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: plausible },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '..',
        '%2e%2e',
        '..%2f..%2fetc%2fpasswd',
        '%00',
        '%ff',
        '%',
        '-1',
        '0',
        '1e3',
        '9'.repeat(40),
        'x'.repeat(3000),
        '%E2%80%AE',
        'a;b',
        '*',
      ),
    },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s)) },
  );
}

/** Fills a route template's `:params` and `*` with `param` values. */
export function pathOf(template: string, value: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const names = template.split('/').filter((s) => s.startsWith(':') || s === '*');
  return fc
    .tuple(
      fc.array(value, { minLength: names.length, maxLength: names.length }),
      fc.constantFrom('', '', '', '?x=1', '?after=-5', '?after=abc&after=2', '?%zz', '#frag'),
    )
    .map(([values, query]) => {
      let i = 0;
      return template.replace(/:[^/]+|\*/g, () => values[i++]!) + query;
    });
}

/** Request headers a client controls, each one present or not, with odd values. */
export function headersOf(extra: Record<string, fc.Arbitrary<string>> = {}): fc.Arbitrary<Record<string, string>> {
  const odd = (...values: string[]) => fc.oneof(fc.constantFrom(...values), headerText);
  return fc.record(
    {
      // Mostly JSON, so that bodies reach the routes; sometimes what no route takes.
      'content-type': fc.oneof(
        { weight: 4, arbitrary: fc.constant('application/json') },
        {
          weight: 1,
          arbitrary: odd(
            'application/json; charset=latin1',
            'text/plain',
            'multipart/form-data; boundary=x',
            'application/x-www-form-urlencoded',
            'application/octet-stream',
            '',
          ),
        },
      ),
      range: odd(
        'bytes=0-0',
        'bytes=-1',
        'bytes=5-2',
        'bytes=0-',
        'bytes=99999999999-',
        'bytes=0-1,4-5',
        'items=0-1',
        'bytes=--',
      ),
      'if-range': odd('"x"', 'Wed, 21 Oct 2015 07:28:00 GMT'),
      'accept-encoding': odd('zstd', 'zstd;q=0', 'gzip, zstd;q=0.5', '*'),
      'last-event-id': odd('0', '-1', '99999999999999999999', 'abc'),
      'x-forwarded-for': odd('198.18.0.1', '1.2.3.4, 5.6.7.8', 'unknown'),
      ...extra,
    },
    { requiredKeys: ['content-type'] },
  );
}

/** The request methods a hostile client may try. */
export const anyMethod = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS');

/** A few hundred cases per property keeps each file under a minute; a failure prints its seed. */
export const FUZZ_RUNS = 200;
