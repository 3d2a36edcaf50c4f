import { useState } from 'react';
import type { AuditEntry } from '../../../src/protocol/management-api.js';
import { EmptyState } from '../components/empty-state.js';
import { Loaded } from '../components/load-state.js';
import { PageHeader } from '../components/page-header.js';
import { Table } from '../components/table.js';
import { formatDateTime } from '../format.js';
import type { PageProps } from '../routes.js';
import { useApi } from '../state/session.js';
import { useResource } from '../state/use-resource.js';

const PAGE_SIZE = 100;

/** Who changed what, when (admins only). */
export function AuditPage(_: PageProps) {
  const api = useApi();
  const [before, setBefore] = useState<number[]>([]);
  const cursor = before.at(-1);
  const audit = useResource(
    (signal) => api.audit.list({ limit: PAGE_SIZE, ...(cursor && { before: cursor }) }, signal),
    [api, cursor],
  );
  return (
    <section className="page">
      <PageHeader title="Audit log" subtitle="Every change, newest first" />
      <Loaded resource={audit}>
        {(entries) =>
          entries.length === 0 ? (
            <EmptyState title="Nothing recorded yet" />
          ) : (
            <>
              <Table<AuditEntry>
                caption="Audit log"
                rows={entries}
                rowKey={(e) => e.id}
                columns={[
                  { header: 'When', cell: (e) => formatDateTime(e.at) },
                  { header: 'Who', cell: (e) => e.actor },
                  { header: 'What', cell: (e) => <code>{e.action}</code> },
                  { header: 'Target', cell: (e) => e.target ?? '' },
                  {
                    header: 'Details',
                    cell: (e) =>
                      Object.keys(e.details).length ? <code className="details">{JSON.stringify(e.details)}</code> : '',
                    optional: true,
                  },
                  { header: 'From', cell: (e) => e.ip ?? '', optional: true },
                ]}
              />
              <nav className="pager" aria-label="Pages">
                <button
                  type="button"
                  className="btn btn-small"
                  disabled={before.length === 0}
                  onClick={() => setBefore(before.slice(0, -1))}
                >
                  Newer
                </button>
                <button
                  type="button"
                  className="btn btn-small"
                  disabled={entries.length < PAGE_SIZE}
                  onClick={() => setBefore([...before, entries.at(-1)!.id])}
                >
                  Older
                </button>
              </nav>
            </>
          )
        }
      </Loaded>
    </section>
  );
}
