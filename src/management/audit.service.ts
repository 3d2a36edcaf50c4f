import type { AuditEntry, AuditQuery } from '../protocol/management-api.js';
import type { Store } from '../store/index.js';
import { appendAudit, listAudit, type AuditAppend } from './audit.repo.js';

/** Who changed what, when: one row per change made through the management API or a login attempt. */
export interface AuditLog {
  record(entry: Omit<AuditAppend, 'at' | 'details'> & { details?: unknown }): Promise<void>;
  list(query: AuditQuery): Promise<AuditEntry[]>;
}

const SECRET_KEY = /password|secret|token/i;
const TEXT_MAX = 2000;
const DEPTH_MAX = 5;

/** Secrets never reach the log, and long texts (a pasted pool list) are cut to what helps a reader. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string')
    return value.length > TEXT_MAX ? `${value.slice(0, TEXT_MAX)}… (${value.length} characters)` : value;
  if (value && typeof value === 'object' && depth >= DEPTH_MAX) return '[nested too deep]';
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1)]),
    );
  }
  return value;
}

export function createAuditLog(deps: { store: Store; clock: () => Date }): AuditLog {
  return {
    record: (e) =>
      deps.store.transaction((tx) =>
        appendAudit(tx, {
          ...e,
          at: deps.clock().toISOString(),
          details: redact(e.details ?? {}) as Record<string, unknown>,
        }),
      ),
    list: (q) => listAudit(deps.store.db, { limit: q.limit ?? 100, before: q.before }),
  };
}
