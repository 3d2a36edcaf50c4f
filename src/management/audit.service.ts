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

/** Secrets never reach the log, and long texts (a pasted pool list) are cut to what helps a reader. */
export function redact(value: unknown): unknown {
  if (typeof value === 'string') return value.length > TEXT_MAX ? `${value.slice(0, TEXT_MAX)}… (${value.length} characters)` : value;
  if (Array.isArray(value)) return value.slice(0, 100).map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v)]));
  }
  return value;
}

export function createAuditLog(deps: { store: Store; clock: () => Date }): AuditLog {
  return {
    record: (e) =>
      deps.store.transaction((tx) =>
        appendAudit(tx, { ...e, at: deps.clock().toISOString(), details: (redact(e.details ?? {}) ?? {}) as Record<string, unknown> }),
      ),
    list: (q) => listAudit(deps.store.db, { limit: q.limit ?? 100, before: q.before }),
  };
}
