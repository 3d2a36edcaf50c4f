import { DEPLOYMENT_STATUSES, type DeploymentStatus } from '../../../src/protocol/fleet.js';
import { DeploymentTable } from '../components/deployment-table.js';
import { EmptyState } from '../components/empty-state.js';
import { Loaded } from '../components/load-state.js';
import { PageHeader } from '../components/page-header.js';
import { Pager } from '../components/pager.js';
import { useSearchParams } from '../router.js';
import type { PageProps } from '../routes.js';
import { useApi } from '../state/session.js';
import { useResource } from '../state/use-resource.js';

const PAGE_SIZE = 50;
const FILTERS = ['venue', 'product', 'status', 'serial', 'batchId', 'since', 'until'] as const;
type FilterName = (typeof FILTERS)[number];

/** `2026-11-22` → the ISO instant that local day (plus `days`) begins; undefined for a bad date. */
function localDayStart(date: string, days: number): string | undefined {
  const start = new Date(`${date}T00:00:00`);
  if (Number.isNaN(start.getTime())) return undefined;
  start.setDate(start.getDate() + days);
  return start.toISOString();
}

/** The day's (or any period's) history: filter by venue, product, status and dates; export CSV. */
export function DeploymentsPage(_: PageProps) {
  const api = useApi();
  const [search, setSearch] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map((k) => [k, search.get(k) ?? ''])) as Record<FilterName, string>;
  const offset = Number(search.get('offset') ?? 0) || 0;
  const venues = useResource((signal) => api.venues.list(signal), [api]);
  const products = useResource((signal) => api.products.list(signal), [api]);

  const query = {
    ...(filters.venue && { venue: filters.venue }),
    ...(filters.product && { product: filters.product }),
    ...(filters.status && { status: filters.status as DeploymentStatus }),
    ...(filters.serial && { serial: filters.serial.trim() }),
    ...(filters.batchId && Number(filters.batchId) > 0 && { batchId: Number(filters.batchId) }),
    // Dates are the operator's local days: "from 22 to 22 November" is that whole local day.
    ...(filters.since && localDayStart(filters.since, 0) && { since: localDayStart(filters.since, 0) }),
    ...(filters.until && localDayStart(filters.until, 1) && { until: localDayStart(filters.until, 1) }),
  };
  const page = useResource(
    (signal) => api.deployments.list({ ...query, limit: PAGE_SIZE, offset }, signal),
    [api, JSON.stringify(query), offset],
  );
  const set = (name: FilterName, value: string) => setSearch({ ...filters, [name]: value, offset: undefined });
  const filtered = FILTERS.some((k) => filters[k]);

  const select = (name: FilterName, label: string, options: readonly string[]) => (
    <label>
      {label}{' '}
      <select value={filters[name]} onChange={(e) => set(name, e.target.value)}>
        <option value="">all</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <section className="page">
      <PageHeader
        title="Deployments"
        subtitle="Every imaging attempt, newest first"
        actions={
          <a className="btn" href={api.deployments.csvUrl(query)} download>
            Export CSV
          </a>
        }
      />
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        {select(
          'venue',
          'Venue',
          (venues.data ?? []).map((v) => v.code),
        )}
        {select(
          'product',
          'Product',
          (products.data ?? []).map((p) => p.code),
        )}
        {select('status', 'Status', DEPLOYMENT_STATUSES)}
        <label>
          From <input type="date" value={filters.since} onChange={(e) => set('since', e.target.value)} />
        </label>
        <label>
          To <input type="date" value={filters.until} onChange={(e) => set('until', e.target.value)} />
        </label>
        <label>
          Serial{' '}
          <input type="search" size={10} value={filters.serial} onChange={(e) => set('serial', e.target.value)} />
        </label>
        {filters.batchId && (
          <button type="button" className="btn btn-small" onClick={() => set('batchId', '')}>
            Batch {filters.batchId} ×
          </button>
        )}
        {filtered && (
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setSearch({})}>
            Clear filters
          </button>
        )}
      </form>
      <Loaded resource={page}>
        {(p) =>
          p.items.length === 0 ? (
            <EmptyState title={filtered ? 'No deployment matches these filters' : 'No deployments yet'}>
              <p>
                {filtered
                  ? 'Widen the dates or clear a filter.'
                  : 'Each board that enrolls starts a deployment; power on a board with an active batch to see the first one.'}
              </p>
            </EmptyState>
          ) : (
            <>
              <DeploymentTable rows={p.items} caption="Deployments" />
              <Pager
                offset={p.offset}
                limit={p.limit}
                shown={p.items.length}
                hasMore={p.hasMore}
                onPage={(o) => setSearch({ ...filters, offset: o ? String(o) : undefined })}
              />
            </>
          )
        }
      </Loaded>
    </section>
  );
}
