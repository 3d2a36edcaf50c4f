import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServer } from '../lib/http-server.js';
import type { AuditLog } from './audit.service.js';
import { actorName } from './auth/principal.js';

/**
 * Writes the audit row of every route that declares `config.audit`, once it has succeeded (and,
 * for `auditFailures` routes such as login, once it has failed). It runs in onSend, so the row is
 * committed before the client sees the answer.
 */
export function registerAuditHook(app: HttpServer, audit: AuditLog): void {
  app.addHook('onSend', async (req, reply, payload) => {
    const { audit: action, auditFailures } = req.routeOptions.config;
    if (!action) return payload;
    const failed = reply.statusCode >= 400;
    if (failed && !auditFailures) return payload;
    await audit.record({
      actor: actorName(req.principal),
      action: failed ? `${action}-failed` : action,
      target: targetOf(req, reply, payload),
      details: { ...detailsOf(req), ...(failed && { status: reply.statusCode, code: codeOf(payload) }) },
      ip: req.ip,
    });
    return payload;
  });
}

function detailsOf(req: FastifyRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // JSON bodies only: an upload's body is the file stream, which the log has no use for.
  if (req.body && Object.getPrototypeOf(req.body) === Object.prototype) out['body'] = req.body;
  if (req.query && Object.keys(req.query).length > 0) out['query'] = req.query;
  return out;
}

/** What was changed: the path's ids, else the new record's id or code, else the name in the body. */
function targetOf(req: FastifyRequest, reply: FastifyReply, payload: unknown): string | null {
  const params = Object.values((req.params ?? {}) as Record<string, string>);
  if (params.length > 0) return params.join('/');
  const created = reply.statusCode === 201 && typeof payload === 'string' ? parse(payload) : undefined;
  const id =
    created?.['id'] ??
    created?.['code'] ??
    created?.['username'] ??
    (created?.['token'] as Record<string, unknown> | undefined)?.['id'];
  if (typeof id === 'string' || typeof id === 'number') return String(id);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const name = body['code'] ?? body['username'] ?? body['name'];
  return typeof name === 'string' ? name : null;
}

function codeOf(payload: unknown): unknown {
  return typeof payload === 'string' ? parse(payload)?.['code'] : undefined;
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
