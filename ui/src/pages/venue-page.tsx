import { useState, type ReactNode } from 'react';
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
import { Pager } from '../components/pager.js';
import { PoolImportForm } from '../components/pool-import-form.js';
import { Table } from '../components/table.js';
import { VenueForm } from '../components/venue-form.js';
import { formatDateTime } from '../format.js';
import { Link, useRouter } from '../router.js';
import type { PageProps } from '../routes.js';
import { poolRanges, rangeLabel, type PoolRange } from '../state/pool-ranges.js';
import { useApi, useRole } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useResource } from '../state/use-resource.js';
import { useSubmit } from '../state/use-submit.js';

type PendingAction =
  | { kind: 'delete'; force: boolean; message?: string }
  | { kind: 'retire'; entry: PoolEntry }
  | { kind: 'retire-selection'; hostnames: string[] }
  | { kind: 'release'; range: PoolRange };

/** Ranges per page: a page of them stays about a screen high whatever the pool holds. */
const RANGES_PER_PAGE = 20;

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
  const [offset, setOffset] = useState(0);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
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
    setSelected(new Set());
  };
  // A different list: start again at its first page, with nothing selected.
  const showPool = (change: () => void) => {
    change();
    setOffset(0);
    setSelected(new Set());
  };
  const toggle = (r: PoolRange, on: boolean) =>
    setSelected((was) => {
      const next = new Set(was);
      for (const e of r.entries) {
        if (on) next.add(e.hostname);
        else next.delete(e.hostname);
      }
      return next;
    });

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
      if (pending.kind === 'retire') {
        await api.pools.retire(pending.entry.hostname, pending.entry.status === 'assigned');
        notify('success', `${pending.entry.hostname} retired`);
      } else if (pending.kind === 'retire-selection') {
        const done = await api.pools.retireMany(code, pending.hostnames);
        notify('success', `${done.retired.length} numbers retired`);
      } else {
        // No bulk release: un-retiring is rare, and each number's release is its own change.
        for (const e of pending.range.entries) await api.pools.release(e.hostname);
        notify('success', `${rangeLabel(pending.range)} released back to the pool`);
      }
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

  // Free numbers are retired by selection; a board's number one at a time, as it takes the name from the board.
  const rangeActions = (r: PoolRange) =>
    canOperate && (
      <div className="row-actions">
        {r.status !== 'available' && (
          <button type="button" className="btn btn-small" onClick={() => setPending({ kind: 'release', range: r })}>
            Release
          </button>
        )}
        {r.status === 'assigned' && (
          <button
            type="button"
            className="btn btn-small btn-danger-outline"
            onClick={() => setPending({ kind: 'retire', entry: r.first })}
          >
            Retire
          </button>
        )}
      </div>
    );
  const selectCell = (r: PoolRange) =>
    r.status === 'available' && (
      <input
        type="checkbox"
        aria-label={`Select ${rangeLabel(r)}`}
        checked={r.entries.every((e) => selected.has(e.hostname))}
        onChange={(e) => toggle(r, e.target.checked)}
      />
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
              onChange={(e) => {
                const next = e.target.value;
                showPool(() => setProduct(next));
                setPreview(null);
              }}
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
                onChange={(e) => {
                  const next = e.target.value as PoolStatus | '';
                  showPool(() => setStatus(next));
                }}
              >
                <option value="">all statuses</option>
                {POOL_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            {canOperate && (
              <div className="selection-bar" role="group" aria-label="Selected numbers">
                <span>{selected.size === 0 ? 'Select free numbers to retire them' : `${selected.size} selected`}</span>
                <button
                  type="button"
                  className="btn btn-small btn-danger-outline"
                  disabled={selected.size === 0}
                  onClick={() => setPending({ kind: 'retire-selection', hostnames: [...selected] })}
                >
                  Retire selected
                </button>
                {selected.size > 0 && (
                  <button type="button" className="btn btn-small" onClick={() => setSelected(new Set())}>
                    Clear selection
                  </button>
                )}
              </div>
            )}
            <Loaded resource={pool}>
              {(entries) =>
                entries.length === 0 ? (
                  <EmptyState title={status ? `No ${status} numbers` : `The ${current} pool of ${code} is empty`}>
                    {!status && (
                      <p>Import the venue's kart numbers above (a range such as 1–60, a pasted list or a CSV file).</p>
                    )}
                  </EmptyState>
                ) : (
                  <PoolRangeTable
                    caption={`${current} hostname pool`}
                    ranges={poolRanges(entries)}
                    offset={offset}
                    onPage={setOffset}
                    selectCell={canOperate ? selectCell : undefined}
                    actions={canOperate ? rangeActions : undefined}
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
              : pending?.kind === 'retire-selection'
                ? `Retire ${pending.hostnames.length} numbers?`
                : `Release ${pending?.kind === 'release' ? rangeLabel(pending.range) : ''}?`
        }
        confirmLabel={
          pending?.kind === 'delete'
            ? pending.force
              ? `Delete ${code} anyway`
              : `Delete ${code}`
            : pending?.kind === 'retire' || pending?.kind === 'retire-selection'
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
        {pending?.kind === 'retire-selection' && (
          <p>
            No board will be given {pending.hostnames.length === 1 ? 'this number' : 'these numbers'}. All are retired
            together, or none if a board has taken one meanwhile.
          </p>
        )}
        {pending?.kind === 'release' && (
          <p>
            {rangeLabel(pending.range)} {pending.range.entries.length === 1 ? 'goes' : 'go'} back to the pool
            {pending.range.first.serial
              ? `; board ${pending.range.first.serial} loses the name and gets a new one when it enrolls again`
              : ''}
            .
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}

/** A pool as ranges of one state, a page at a time. */
function PoolRangeTable({
  caption,
  ranges,
  offset,
  onPage,
  selectCell,
  actions,
}: {
  caption: string;
  ranges: PoolRange[];
  offset: number;
  onPage: (offset: number) => void;
  selectCell: ((r: PoolRange) => ReactNode) | undefined;
  actions: ((r: PoolRange) => ReactNode) | undefined;
}) {
  // After a change shortens the list, the page shown may be past its end.
  const start = offset < ranges.length ? offset : Math.max(0, ranges.length - RANGES_PER_PAGE);
  const shown = ranges.slice(start, start + RANGES_PER_PAGE);
  return (
    <>
      <Table<PoolRange>
        dense
        caption={caption}
        rows={shown}
        rowKey={(r) => r.first.id}
        columns={[
          ...(selectCell ? [{ header: 'Select', cell: selectCell }] : []),
          { header: 'Numbers', cell: rangeLabel },
          { header: 'Count', cell: (r) => r.entries.length, kind: 'num' as const },
          {
            header: 'Status',
            cell: (r) => <span className={`badge badge-pool-${r.status}`}>{r.status}</span>,
          },
          {
            header: 'Board',
            cell: (r) => (r.first.serial ? <Link to={`/devices/${r.first.serial}`}>{r.first.serial}</Link> : ''),
            optional: true,
          },
          {
            header: 'Assigned',
            cell: (r) => (r.first.assignedAt ? formatDateTime(r.first.assignedAt) : ''),
            optional: true,
          },
          ...(actions ? [{ header: 'Actions', cell: actions, kind: 'actions' as const }] : []),
        ]}
      />
      <Pager
        offset={start}
        limit={RANGES_PER_PAGE}
        shown={shown.length}
        hasMore={start + RANGES_PER_PAGE < ranges.length}
        onPage={onPage}
      />
    </>
  );
}
