import type { TSchema, Static } from 'typebox';
import { firstSchemaError } from '../lib/validate.js';
import {
  ProgressReply,
  ResultReply,
  v1Paths,
  type EnrollReply,
  type EnrollRequest,
  type ProgressReport,
  type ResultReport,
} from '../protocol/agent-api.js';
import { EnrollAnswer, type CaptureOrder } from '../protocol/capture.js';
import { Manifest } from '../protocol/manifest.js';
import { PeerJoinReply, peerPaths, type PeerJoinRequest } from '../protocol/peers.js';
import { AgentError, TransientError } from './errors.js';
import { readBody, withRetry, type HttpClient, type HttpResponse, type RetryOptions } from './http.js';

/** Replies carry at most a manifest: a few MB even for a 64 GB image. */
const JSON_REPLY_LIMIT_BYTES = 64 * 1024 * 1024;

/** The device API v1 as the agent calls it: each call retried through server restarts, each reply checked against its schema. */
export interface ServerClient {
  /** A deployment to write, or (a board an operator marked) a capture to make. */
  enroll(req: EnrollRequest): Promise<EnrollReply | CaptureOrder>;
  manifest(): Promise<Manifest>;
  progress(report: ProgressReport): Promise<ProgressReply>;
  /** `retry` overrides the client's patience (a failure report after the run was aborted). */
  result(report: ResultReport, retry?: RetryOptions): Promise<ResultReply>;
  /** Fleet mode: join (or re-join) the image's swarm; `retry` as for `result`. */
  joinSwarm(req: PeerJoinRequest, retry?: RetryOptions): Promise<PeerJoinReply>;
  /** Authorization header of this deployment, for the chunk fetcher. */
  authHeaders: () => Record<string, string>;
  deploymentId(): number;
}

export function createServerClient(http: HttpClient, retry: RetryOptions): ServerClient {
  let session: { deploymentId: number; token: string } | undefined;

  const need = () => {
    if (!session) throw new Error('bug: a deployment call before enroll');
    return session;
  };
  const auth = () => ({ authorization: `Bearer ${need().token}` });

  const call = <S extends TSchema>(
    what: string,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    schema: S,
    json?: unknown,
    headers: Record<string, string> = {},
    patience = retry,
  ) => callJson(http, { what, method, path, schema, json, headers }, patience);

  return {
    async enroll(req) {
      const reply = await call('enroll', 'POST', v1Paths.enroll, EnrollAnswer, req);
      if (!('capture' in reply)) session = { deploymentId: reply.deploymentId, token: reply.token };
      return reply;
    },
    manifest: () => call('manifest', 'GET', v1Paths.manifest(need().deploymentId), Manifest, undefined, auth()),
    progress: (report) =>
      call('progress report', 'POST', v1Paths.progress(need().deploymentId), ProgressReply, report, auth()),
    result: (report, patience) =>
      call('result report', 'POST', v1Paths.result(need().deploymentId), ResultReply, report, auth(), patience),
    joinSwarm: (req, patience) =>
      call('swarm join', 'POST', peerPaths.join(need().deploymentId), PeerJoinReply, req, auth(), patience),
    authHeaders: auth,
    deploymentId: () => need().deploymentId,
  };
}

/** One JSON call of the device API. */
export interface JsonCall<S extends TSchema> {
  /** Names the call in errors: "enroll", "chunk list". */
  what: string;
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  /** The reply's schema: a reply that does not match is refused, not trusted. */
  schema: S;
  json?: unknown;
  headers?: Record<string, string>;
}

/** Sends `c`, retried through server restarts, and returns its reply checked against `c.schema`. */
export function callJson<S extends TSchema>(
  http: HttpClient,
  c: JsonCall<S>,
  patience: RetryOptions,
): Promise<Static<S>> {
  const { what } = c;
  return withRetry(
    what,
    async () => {
      const res = await http.send({
        method: c.method,
        path: c.path,
        json: c.json,
        headers: { accept: 'application/json', ...c.headers },
        signal: patience.signal,
      });
      const body = await readBody(res.body, JSON_REPLY_LIMIT_BYTES, patience.signal);
      if (res.status !== 200) throw refusal(what, res, body);
      let value: unknown;
      try {
        value = JSON.parse(body.toString('utf8'));
      } catch {
        throw new AgentError('AGENT_SERVER_REPLY_INVALID', `${what}: the server's reply is not JSON`, {});
      }
      const problem = firstSchemaError(c.schema, value);
      if (problem)
        throw new AgentError(
          'AGENT_SERVER_REPLY_INVALID',
          `${what}: the server's reply does not match API v1 (${problem.path} ${problem.message})`,
          { ...problem },
        );
      return value as Static<S>;
    },
    patience,
  );
}

/** An error answer: retried when the server is struggling, final when it refused. */
export function refusal(what: string, res: HttpResponse, body: Buffer): Error {
  let parsed: { error?: unknown; code?: unknown } = {};
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    // not the common error body (a proxy, a crash page): the status says enough
  }
  const message = typeof parsed.error === 'string' ? parsed.error : `HTTP ${res.status}`;
  const code = typeof parsed.code === 'string' ? parsed.code : undefined;
  if (res.status >= 500 || res.status === 408 || res.status === 429)
    return new TransientError(`${what}: server answered ${res.status}: ${message}`);
  if (code === 'FLEET_DEPLOYMENT_FINISHED')
    return new AgentError('AGENT_SUPERSEDED', `${what}: ${message}`, { status: res.status, code });
  return new AgentError(
    'AGENT_SERVER_REFUSED',
    `${what}: the server refused (${res.status} ${code ?? ''}): ${message}`,
    { status: res.status, code },
  );
}
