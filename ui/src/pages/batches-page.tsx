import { useState } from 'react';
import { BATCH_STATUSES, BatchInput, type Batch, type BatchStatus } from '../../../src/protocol/fleet.js';
import { BATCH_CODE_FIELDS, BatchForm } from '../components/batch-form.js';
import { BatchProgress } from '../components/batch-progress.js';
import { EmptyState } from '../components/empty-state.js';
import { Loaded } from '../components/load-state.js';
import { ConfirmDialog, Modal } from '../components/modal.js';
import { PageHeader } from '../components/page-header.js';
import { formatDateTime } from '../format.js';
import { Link, useSearchParams } from '../router.js';
import type { PageProps } from '../routes.js';
import { useLiveRefresh } from '../state/live-fleet.js';
import { useApi, useRole } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useResource } from '../state/use-resource.js';
import { useSubmit } from '../state/use-submit.js';

type BatchAction = 'activate' | 'pause' | 'cancel';
const ACTIONS: { action: BatchAction; label: string; from: BatchStatus[] }[] = [
  { action: 'activate', label: 'Activate', from: ['pending', 'paused'] },
  { action: 'pause', label: 'Pause', from: ['active'] },
  { action: 'cancel', label: 'Cancel batch', from: ['pending', 'active', 'paused'] },
];
const PAST = { activate: 'activated', pause: 'paused', cancel: 'cancelled' } as const;

/** Batches: what is being deployed where, and how far it got. */
export function BatchesPage(_: PageProps) {
  const api = useApi();
  const { canOperate } = useRole();
  const { notify } = useToasts();
  const [search, setSearch] = useSearchParams();
  const venue = search.get('venue') ?? '';
  const status = (search.get('status') ?? '') as BatchStatus | '';
  const batches = useResource(
    (signal) => api.batches.list({ ...(venue && { venue }), ...(status && { status }) }, signal),
    [api, venue, status],
  );
  const venues = useResource((signal) => api.venues.list(signal), [api]);
  const products = useResource((signal) => api.products.list(signal), [api]);
  const [creating, setCreating] = useState(false);
  const [cancelling, setCancelling] = useState<Batch | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = useSubmit({ schema: BatchInput, codeToField: BATCH_CODE_FIELDS });
  useLiveRefresh(
    (e) => e.type === 'batch.status' || e.type === 'deployment.phase' || e.type === 'hostname.assigned',
    batches.reload,
  );

  async function apply(batch: Batch, action: BatchAction) {
    setBusy(true);
    try {
      await api.batches.act(batch.id, action);
      notify('success', `Batch ${batch.id} ${PAST[action]}`);
      batches.reload();
    } catch (err) {
      notify('error', err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
      setCancelling(null);
    }
  }

  const hasVenues = (venues.data?.length ?? 0) > 0;
  const newButton = canOperate && (
    <button type="button" className="btn btn-primary" disabled={!hasVenues} onClick={() => setCreating(true)}>
      New batch
    </button>
  );

  return (
    <section className="page">
      <PageHeader
        title="Batches"
        subtitle="A batch names boards for one venue and product, up to a count"
        actions={newButton}
      />
      <div className="filters">
        <label>
          Venue{' '}
          <select value={venue} onChange={(e) => setSearch({ venue: e.target.value, status })}>
            <option value="">all</option>
            {(venues.data ?? []).map((v) => (
              <option key={v.code} value={v.code}>
                {v.code}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setSearch({ venue, status: e.target.value })}>
            <option value="">all</option>
            {BATCH_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Loaded resource={batches}>
        {(list) =>
          list.length === 0 ? (
            <EmptyState
              title={venue || status ? 'No batch matches' : 'No batches yet'}
              action={!venue && !status ? newButton : undefined}
            >
              {!hasVenues ? (
                <p>
                  First <Link to="/venues">create a venue</Link>, then a batch for it.
                </p>
              ) : (
                <p>
                  Create a batch (venue, product, number of boards) and activate it; boards that power on are then named
                  from it.
                </p>
              )}
            </EmptyState>
          ) : (
            <ul className="batch-cards">
              {list.map((b) => (
                <li key={b.id} className="card batch-card">
                  <BatchProgress batch={b} />
                  <p className="muted small">
                    Priority {b.priority} · created {formatDateTime(b.createdAt)}
                    {b.activatedAt && ` · activated ${formatDateTime(b.activatedAt)}`}
                    {b.finishedAt && ` · ended ${formatDateTime(b.finishedAt)}`} ·{' '}
                    <Link to={`/deployments?batchId=${b.id}`}>deployments</Link>
                  </p>
                  {canOperate && (
                    <div className="row-actions">
                      {ACTIONS.filter((a) => a.from.includes(b.status)).map((a) => (
                        <button
                          key={a.action}
                          type="button"
                          className={`btn btn-small${a.action === 'cancel' ? ' btn-danger-outline' : a.action === 'activate' ? ' btn-primary' : ''}`}
                          disabled={busy}
                          aria-label={`${a.label} batch ${b.id}`}
                          onClick={() => (a.action === 'cancel' ? setCancelling(b) : void apply(b, a.action))}
                        >
                          {a.label}
                        </button>
                      ))}
                    </div>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
      <Modal open={creating} title="New batch" onClose={() => (setCreating(false), submit.clear())}>
        {venues.data && products.data && (
          <BatchForm
            venues={venues.data}
            products={products.data}
            {...(venue && { initialVenue: venue })}
            errors={submit.errors}
            busy={submit.busy}
            onCancel={() => (setCreating(false), submit.clear())}
            onSubmit={(e, value, activate) =>
              void submit.handle(e, value, async () => {
                const batch = await api.batches.create(value);
                if (activate) await api.batches.act(batch.id, 'activate');
                notify(
                  'success',
                  `Batch ${batch.id} created${activate ? ' and active' : ''}: ${batch.expectedCount} × ${batch.product} for ${batch.venue}`,
                );
                setCreating(false);
                batches.reload();
              })
            }
          />
        )}
      </Modal>
      <ConfirmDialog
        open={cancelling !== null}
        title={`Cancel batch ${cancelling?.id ?? ''}?`}
        confirmLabel="Cancel batch"
        busy={busy}
        onConfirm={() => cancelling && void apply(cancelling, 'cancel')}
        onCancel={() => setCancelling(null)}
      >
        <p>
          No more boards will be named from this batch. Boards already named keep their names. This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}
