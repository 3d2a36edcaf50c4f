import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentError, TransientError } from './errors.js';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  json?: unknown;
  /** Bytes sent as they are (a captured chunk), with the content type given in `headers`. */
  bytes?: Buffer;
  signal?: AbortSignal | undefined;
}

/** A keep-alive HTTP(S) client bound to one server, with an idle timeout on every socket. */
export interface HttpClient {
  send(req: HttpRequest): Promise<HttpResponse>;
  close(): void;
}

/** A request that receives nothing for this long is dropped and retried. */
const IDLE_TIMEOUT_MS = 30_000;

export function createHttpClient(
  base: URL,
  options: { maxSockets: number; /** default 30 s */ idleTimeoutMs?: number },
): HttpClient {
  const idleMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const lib = base.protocol === 'https:' ? https : http;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: options.maxSockets });
  return {
    send(req) {
      const body = req.bytes ?? (req.json === undefined ? undefined : Buffer.from(JSON.stringify(req.json)));
      const headers: Record<string, string> = {
        ...(req.json !== undefined && { 'content-type': 'application/json' }),
        ...req.headers,
        ...(body && { 'content-length': String(body.length) }),
      };
      return new Promise<HttpResponse>((resolve, reject) => {
        const r = lib.request(
          new URL(req.path, base),
          { method: req.method, headers, agent, timeout: idleMs, signal: req.signal },
          (res) => {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
          },
        );
        r.on('timeout', () => r.destroy(new TransientError(`no answer from ${base.origin} for ${idleMs / 1000} s`)));
        r.on('error', (err) => reject(classify(err, req.signal)));
        r.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Network failures are worth retrying; an abort is not. */
export function classify(err: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted) return new AgentError('AGENT_ABORTED', 'The agent was stopped', {}, { cause: err });
  if (err instanceof AgentError || err instanceof TransientError) return err;
  return new TransientError(`connection failed: ${(err as Error).message}`, { cause: err });
}

/** Reads a whole (small) response body. */
export async function readBody(res: IncomingMessage, limitBytes: number, signal?: AbortSignal): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const part of res as AsyncIterable<Buffer>) {
      size += part.length;
      if (size > limitBytes)
        throw new AgentError('AGENT_SERVER_REPLY_INVALID', `The server sent more than ${limitBytes} bytes`, {
          limitBytes,
        });
      parts.push(part);
    }
  } catch (err) {
    throw classify(err, signal);
  }
  return Buffer.concat(parts);
}

export interface RetryOptions {
  signal?: AbortSignal | undefined;
  /** Give up when failures have lasted this long without one success. */
  giveUpAfterMs: number;
  onRetry?: ((what: string, err: Error, attempt: number) => void) | undefined;
}

const BACKOFF_FIRST_MS = 200;
const BACKOFF_MAX_MS = 5_000;

/**
 * Runs `fn` until it succeeds, retrying transient failures with capped exponential backoff and
 * jitter (a restarting server with 50 boards behind it should not be hit in lock-step).
 */
export async function withRetry<T>(what: string, fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      if (Date.now() - started > options.giveUpAfterMs) {
        throw new AgentError(
          'AGENT_SERVER_UNREACHABLE',
          `${what}: gave up after ${Math.round((Date.now() - started) / 1000)} s of failures; last: ${err.message}`,
          { attempts: attempt },
          { cause: err },
        );
      }
      options.onRetry?.(what, err, attempt);
      const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt - 1, 10));
      try {
        await sleep(backoff / 2 + Math.random() * (backoff / 2), undefined, { signal: options.signal });
      } catch (cause) {
        throw new AgentError('AGENT_ABORTED', 'The agent was stopped', {}, { cause });
      }
    }
  }
}
