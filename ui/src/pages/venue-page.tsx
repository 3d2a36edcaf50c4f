import { useState } from 'react';
import {
  POOL_STATUSES,
  VenuePatch,
  type PoolEntry,
  type PoolImportResult,
  type PoolStatus,
} from '../../../src/protocol/fleet.js';
import { PoolImportRequest } from '../../../src/protocol/management-api.js';
import { ApiError } from '../api/client.js';
import { EmptyState } from '../components/empty-state.js';
import { Loaded } from '../components/load-state.js';
import { ConfirmDialog, Modal } from '../components/modal.js';
import { PageHeader } from '../components/page-header.js';
import { PoolImportForm } from '../components/pool-import-form.js';
import { Table } from '../components/table.js';
import { VenueForm } from '../components/venue-form.js';
import { formatDateTime } from '../format.js';
import { Link, useRouter } from '../router.js';
import type { PageProps } from '../routes.js';
import { useApi, useRole } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useResource } from '../state/use-resource.js';
import { useSubmit } from '../state/use-submit.js';

type PendingAction =
  | { kind: 'delete'; force: boolean; message?: string }
  | { kind: 'retire'; entry: PoolEntry }
  | { kind: 'release'; entry: PoolEntry };

/** One venue: its details, its hostname pools (import with preview, release, retire). */
export function VenuePage({ params }: PageProps) {
  const code = params['code'] ?? '';
  const api = useApi();
  const { canOperate } = useRole();
  const { notify } = useToasts();
  const { navigate } = useRouter();
  const venue = useResource((signal) => api.venues.get(code, signal), [api, code]);
  const stats = useResource((signal) => api.venues.stats(code, signal), [api, code]);
  const products = useResource((signal) => api.products.list(signal), [api]);
  const [product, setProduct] = useState<string | null>(null);
  const [status, setStatus] = useState<PoolStatus | ''>('');
  const pooled = (products.data ?? []).filter((p) => p.naming === 'pool');
  const serialNamed = (products.data ?? []).filter((p) => p.naming === 'serial');
  const current = product ?? pooled[0]?.code ?? null;
  const pool = useResource(
    async (signal) => (current ? api.pools.list(code, { product: current, ...(status && { status }) }, signal) : []),
    [api, code, current, status],
  );

  const [editing, setEditing] = useState(false);
  const edit = useSubmit({ schema: VenuePatch });
  const [pending, setPending] = useState<PendingAction | null>(null);
  const [acting, setActing] = useState(false);
  const [preview, setPreview] = useState<{ result: PoolImportResult; text: string; committed: boolean } | null>(null);
  const importer = useSubmit({
    schema: PoolImportRequest,
    codeToField: { FLEET_POOL_INPUT_TOO_LARGE: 'text', FLEET_POOL_INPUT_NOT_TEXT: 'text' },
  });

  const refresh = () => {
    stats.reload();
    pool.reload();
  };

  async function act() {
    if (!pending) return;
    setActing(true);
    try {
      if (pending.kind === 'delete') {
        await api.venues.remove(code, pending.force);
        notify('success', `Venue ${code} deleted`);
        navigate('/venues');
        return;
      }
      if (pending.kind === 'retire')
        await api.pools.retire(pending.entry.hostname, pending.entry.status === 'assigned');
      else await api.pools.release(pending.entry.hostname);
      notify(
        'success',
        `${pending.entry.hostname} ${pending.kind === 'retire' ? 'retired' : 'released back to the pool'}`,
      );
      setPending(null);
      refresh();
    } catch (err) {
      if (pending.kind === 'delete' && err instanceof ApiError && err.code === 'FLEET_VENUE_IN_USE') {
        setPending({ kind: 'delete', force: true, message: err.message });
      } else {
        notify('error', err instanceof Error ? err.message : String(err));
        setPending(null);
      }
    } finally {
      setActing(false);
    }
  }

  const poolActions = (e: PoolEntry) =>
    canOperate && (
      <div className="row-actions">
        {e.status !== 'available' && (
          <button type="button" className="btn btn-small" onClick={() => setPending({ kind: 'release', entry: e })}>
            Release
          </button>
        )}
        {e.status !== 'retired' && (
          <button
            type="button"
            className="btn btn-small btn-danger-outline"
            onClick={() => setPending({ kind: 'retire', entry: e })}
          >
            Retire
          </button>
        )}
      </div>
    );

  return (
    <section className="page">
      <Loaded resource={venue}>
        {(v) => (
          <>
            <PageHeader
              title={`${v.code} · ${v.name}`}
              subtitle={[v.location, v.contact].filter(Boolean).join(' · ') || undefined}
              actions={
                canOperate && (
                  <>
                    <button type="button" className="btn" onClick={() => setEditing(true)}>
                      Edit
                    </button>
                    <button
                      type="button"
                      className="btn btn-danger-outline"
                      onClick={() => setPending({ kind: 'delete', force: false })}
                    >
                      Delete
                    </button>
                  </>
                )
              }
            />
            <p>
              <Link to="/venues">← All venues</Link> ·{' '}
              <Link to={`/deployments?venue=${v.code}`}>Deployments at {v.code}</Link> ·{' '}
              <Link to={`/batches?venue=${v.code}`}>Batches</Link>
            </p>
            <Modal open={editing} title={`Edit ${v.code}`} onClose={() => (setEditing(false), edit.clear())}>
              <VenueForm
                venue={v}
                errors={edit.errors}
                busy={edit.busy}
                onCancel={() => (setEditing(false), edit.clear())}
                onSubmit={(e, value) => {
                  const patch = { name: value.name, location: value.location ?? null, contact: value.contact ?? null };
                  void edit.handle(e, patch, async () => {
                    await api.venues.update(v.code, patch);
                    notify('success', `Venue ${v.code} saved`);
                    setEditing(false);
                    venue.reload();
                  });
                }}
              />
            </Modal>
          </>
        )}
      </Loaded>

      <section className="card" aria-labelledby="pools-title">
        <h2 id="pools-title">Hostname pools</h2>
        {stats.data && stats.data.pools.length > 0 && (
          <Table
            caption="Pool counts per product"
            rows={stats.data.pools}
            rowKey={(p) => p.product}
            columns={[
              { header: 'Product', cell: (p) => p.product },
              { header: 'Available', cell: (p) => p.available, kind: 'num' },
              { header: 'Assigned', cell: (p) => p.assigned, kind: 'num' },
              { header: 'Retired', cell: (p) => p.retired, kind: 'num' },
              { header: 'Total', cell: (p) => p.total, kind: 'num' },
            ]}
          />
        )}
        {serialNamed.length > 0 && (
          <p className="alert alert-info">
            {serialNamed.map((p) => `${p.code} (${p.hostnamePattern})`).join(', ')} name
            {serialNamed.length === 1 ? 's' : ''} boards from their serial number: no pool is needed, just an active
            batch.
          </p>
        )}
        {pooled.length > 1 && (
          <div className="field inline">
            <label htmlFor="pool-product">Product</label>
            <select
              id="pool-product"
              value={current ?? ''}
              onChange={(e) => (setProduct(e.target.value), setPreview(null))}
            >
              {pooled.map((p) => (
                <option key={p.code} value={p.code}>
                  {p.code} · {p.name}
                </option>
              ))}
            </select>
          </div>
        )}
        {current && canOperate && (
          <details className="import" open={stats.data?.pools.every((p) => p.total === 0) ?? false}>
            <summary>Import kart numbers for {current}</summary>
            <PoolImportForm
              product={current}
              preview={preview?.result ?? null}
              committed={preview?.committed ?? false}
              errors={importer.errors}
              busy={importer.busy}
              onChange={() => setPreview(null)}
              onPreview={(e, { text }) =>
                void importer.handle(e, { product: current, text, dryRun: true }, async () => {
                  setPreview({
                    result: await api.pools.import(code, { product: current, text, dryRun: true }),
                    text,
                    committed: false,
                  });
                })
              }
              onCommit={({ force }) => {
                if (!preview) return;
                void (async () => {
                  try {
                    const result = await api.pools.import(code, { product: current, text: preview.text, force });
                    setPreview({ result, text: preview.text, committed: true });
                    notify('success', `Imported ${result.added} numbers into ${code} ${result.product}`);
                    refresh();
                  } catch (err) {
                    notify('error', err instanceof Error ? err.message : String(err));
                  }
                })();
              }}
            />
          </details>
        )}
        {current && (
          <>
            <div className="section-head">
              <h3>{current} numbers</h3>
              <select
                aria-label="Show numbers with status"
                value={status}
                onChange={(e) => setStatus(e.target.value as PoolStatus | '')}
              >
                <option value="">all statuses</option>
                {POOL_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <Loaded resource={pool}>
              {(entries) =>
                entries.length === 0 ? (
                  <EmptyState title={status ? `No ${status} numbers` : `The ${current} pool of ${code} is empty`}>
                    {!status && (
                      <p>Import the venue's kart numbers above (a range such as 1–60, a pasted list or a CSV file).</p>
                    )}
                  </EmptyState>
                ) : (
                  <Table<PoolEntry>
                    dense
                    caption={`${current} hostname pool`}
                    rows={entries}
                    rowKey={(e) => e.id}
                    columns={[
                      { header: 'Hostname', cell: (e) => e.hostname },
                      {
                        header: 'Status',
                        cell: (e) => <span className={`badge badge-pool-${e.status}`}>{e.status}</span>,
                      },
                      {
                        header: 'Board',
                        cell: (e) => (e.serial ? <Link to={`/devices/${e.serial}`}>{e.serial}</Link> : ''),
                        optional: true,
                      },
                      {
                        header: 'Assigned',
                        cell: (e) => (e.assignedAt ? formatDateTime(e.assignedAt) : ''),
                        optional: true,
                      },
                      ...(canOperate ? [{ header: 'Actions', cell: poolActions, kind: 'actions' as const }] : []),
                    ]}
                  />
                )
              }
            </Loaded>
          </>
        )}
      </section>

      <ConfirmDialog
        open={pending !== null}
        title={
          pending?.kind === 'delete'
            ? `Delete venue ${code}?`
            : pending?.kind === 'retire'
              ? `Retire ${pending.entry.hostname}?`
              : `Release ${pending?.kind === 'release' ? pending.entry.hostname : ''}?`
        }
        confirmLabel={
          pending?.kind === 'delete'
            ? pending.force
              ? `Delete ${code} anyway`
              : `Delete ${code}`
            : pending?.kind === 'retire'
              ? 'Retire'
              : 'Release'
        }
        busy={acting}
        onConfirm={() => void act()}
        onCancel={() => setPending(null)}
      >
        {pending?.kind === 'delete' &&
          (pending.message ? (
            <p className="alert alert-warning">{pending.message}</p>
          ) : (
            <p>The venue, its pools and its batches are removed. Deployment history is kept.</p>
          ))}
        {pending?.kind === 'retire' && (
          <p>
            {pending.entry.hostname} will not be given to any board.{' '}
            {pending.entry.status === 'assigned' && (
              <strong>Board {pending.entry.serial} holds it now and loses it.</strong>
            )}
          </p>
        )}
        {pending?.kind === 'release' && (
          <p>
            {pending.entry.hostname} goes back to the pool
            {pending.entry.serial
              ? `; board ${pending.entry.serial} loses the name and gets a new one when it enrolls again`
              : ''}
            .
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}
