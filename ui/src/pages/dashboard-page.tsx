import { useEffect, useMemo, useState } from 'react';
import { BatchProgress } from '../components/batch-progress.js';
import { BoardList } from '../components/board-list.js';
import { EmptyState } from '../components/empty-state.js';
import { FleetSummary } from '../components/fleet-summary.js';
import { LoadError } from '../components/load-state.js';
import { ConfirmDialog } from '../components/modal.js';
import { PageHeader } from '../components/page-header.js';
import { PhaseCounts } from '../components/phase-counts.js';
import { WarningList } from '../components/warning-list.js';
import { formatBytes } from '../format.js';
import { Link } from '../router.js';
import {
  countByPhase,
  DISK_WARNING_KEY,
  sortedBoards,
  summarizeFleet,
  type Board,
  type BoardPhase,
  type FleetWarning,
} from '../state/fleet-view.js';
import { useLiveFleet, useLiveRefresh } from '../state/live-fleet.js';
import { useApi, useRole } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useResource } from '../state/use-resource.js';
import type { PageProps } from '../routes.js';

/** The dashboard shows boards enrolled within this window, plus anything the live stream brings. */
const DASHBOARD_WINDOW_HOURS = 12;
const SNAPSHOT_LIMIT = 1000;
/** How often the server link's rate (in the system status) is fetched while boards are imaging. */
const LINK_POLL_MS = 3000;

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** The live fleet: every board with its phase and progress, batches, counts and warnings. */
export function DashboardPage(_: PageProps) {
  const api = useApi();
  const { canOperate } = useRole();
  const { notify } = useToasts();
  const live = useLiveFleet();
  const now = useNow(1000);
  const [phase, setPhase] = useState<BoardPhase | null>(null);
  const [search, setSearch] = useState('');
  const [reimage, setReimage] = useState<Board | null>(null);
  const [busy, setBusy] = useState(false);

  // The snapshot: on arrival and after every reconnect's catch-up, in case events were missed.
  const snapshot = useResource(
    async (signal) => {
      const since = new Date(Date.now() - DASHBOARD_WINDOW_HOURS * 3600_000).toISOString();
      const page = await api.deployments.list({ since, limit: SNAPSHOT_LIMIT }, signal);
      live.addSnapshot(page.items);
      return page.items.length;
    },
    [api, live.readyCount],
  );
  const batches = useResource((signal) => api.batches.list({}, signal), [api]);
  const poolStats = useResource((signal) => api.pools.stats(undefined, signal), [api]);
  const system = useResource((signal) => api.system.get(signal), [api]);
  useLiveRefresh((e) => e.type === 'disk.warning', system.reload);
  useLiveRefresh(
    (e) =>
      e.type === 'batch.status' ||
      e.type === 'hostname.assigned' ||
      e.type === 'hostname.released' ||
      e.type === 'pool.imported' ||
      (e.type === 'deployment.phase' && ['success', 'failed'].includes((e.data as { phase: string }).phase)),
    () => {
      batches.reload();
      poolStats.reload();
    },
  );

  const boards = useMemo(() => sortedBoards(live.view), [live.view]);
  const counts = useMemo(() => countByPhase(boards), [boards]);
  const needle = search.trim().toLowerCase();
  const shown = boards.filter(
    (b) =>
      (phase === null || b.phase === phase) &&
      (needle === '' || [b.hostname, b.serial, b.ip, b.mac].some((v) => v?.toLowerCase().includes(needle))),
  );
  const windowStart = now - DASHBOARD_WINDOW_HOURS * 3600_000;
  const running = (batches.data ?? []).filter((b) => b.status === 'active' || b.status === 'paused');
  // Batches that ended today stay in view, so the last board's success still shows its batch full.
  const shownBatches = (batches.data ?? []).filter(
    (b) => running.includes(b) || (b.finishedAt !== null && Date.parse(b.finishedAt) >= windowStart),
  );

  const pendingBoards = running.reduce((n, b) => n + Math.max(0, b.expectedCount - b.assigned), 0);
  const fleet = useMemo(() => summarizeFleet(boards, pendingBoards), [boards, pendingBoards]);
  const imaging = fleet.imaging > 0;
  const reloadSystem = system.reload;
  useEffect(() => {
    if (!imaging) return;
    const timer = setInterval(reloadSystem, LINK_POLL_MS);
    return () => clearInterval(timer);
  }, [imaging, reloadSystem]);

  // Warnings the server state implies, next to those the live stream announced.
  const derived: FleetWarning[] = [];
  if (system.data?.disk.low) {
    derived.push({
      key: DISK_WARNING_KEY,
      at: new Date(now).toISOString(),
      message: `Disk space low: ${formatBytes(system.data.disk.freeBytes)} free on ${system.data.disk.path}`,
    });
  }
  for (const b of running) {
    const pool = poolStats.data?.find((p) => p.venue === b.venue && p.product === b.product);
    const needed = b.expectedCount - b.assigned;
    if (pool && pool.total > 0 && pool.available < needed) {
      derived.push({
        key: `pool:${b.id}`,
        at: new Date(now).toISOString(),
        message: `Pool ${b.venue} ${b.product} has ${pool.available} free numbers but batch ${b.id} needs ${needed} more; import more on the venue page`,
      });
    }
  }

  async function confirmReimage() {
    if (!reimage) return;
    setBusy(true);
    try {
      await api.devices.reimage(reimage.serial);
      notify(
        'success',
        `${reimage.hostname ?? reimage.serial} will be re-imaged the next time it boots from the network`,
      );
      setReimage(null);
    } catch (err) {
      notify('error', err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="page">
      <PageHeader title="Dashboard" subtitle={`Boards of the last ${DASHBOARD_WINDOW_HOURS} hours, updated live`} />
      {system.data && !system.data.netboot.enabled && (
        <div className="alert alert-warning" role="alert" aria-labelledby="netboot-off-title">
          <strong id="netboot-off-title">Network boot is off: no board can boot from this server.</strong>
          <p>
            Set <code>netboot.interface</code> to the deployment-LAN interface (it needs a static address), run{' '}
            <code>rpi-deploy netboot build</code>, then restart the server. See docs/operator.md.
          </p>
        </div>
      )}
      <WarningList
        warnings={[...derived.filter((d) => !live.view.warnings.some((w) => w.key === d.key)), ...live.view.warnings]}
        onDismiss={live.dismissWarning}
      />
      {snapshot.error && <LoadError error={snapshot.error} onRetry={snapshot.reload} />}

      {shownBatches.length > 0 && (
        <section className="card" aria-labelledby="batches-title">
          <h2 id="batches-title">Batches</h2>
          <div className="batch-list">
            {shownBatches.map((b) => (
              <BatchProgress key={b.id} batch={b} />
            ))}
          </div>
        </section>
      )}

      {imaging && (
        <section className="card" aria-labelledby="fleet-view-title">
          <h2 id="fleet-view-title">Fleet</h2>
          <FleetSummary summary={fleet} linkBytesPerSecond={system.data?.deviceLink.servedBytesPerSec ?? null} />
        </section>
      )}

      <section className="card" aria-labelledby="fleet-title">
        <div className="section-head">
          <h2 id="fleet-title">Boards</h2>
          <input
            type="search"
            className="search"
            placeholder="Find hostname, serial, IP"
            aria-label="Find a board by hostname, serial, IP or MAC"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        <PhaseCounts counts={counts} selected={phase} onSelect={setPhase} />
        {boards.length === 0 ? (
          <EmptyState title={snapshot.loading ? 'Loading boards…' : 'No boards yet'}>
            {!snapshot.loading && (
              <>
                {system.data?.netboot.enabled && (
                  <p>
                    Power on the boards on the deployment network: each one appears here as soon as it asks for an
                    address.
                  </p>
                )}
                {running.length === 0 && (
                  <p>
                    No batch is active: <Link to="/batches">create and activate a batch</Link> so boards know which
                    venue and product they are for.
                  </p>
                )}
              </>
            )}
          </EmptyState>
        ) : shown.length === 0 ? (
          <EmptyState title="No board matches">
            <p>Clear the search or pick “all”.</p>
          </EmptyState>
        ) : (
          <BoardList boards={shown} nowMs={now} canReimage={canOperate} onReimage={setReimage} />
        )}
      </section>

      <ConfirmDialog
        open={reimage !== null}
        title="Re-image this board?"
        confirmLabel={`Re-image ${reimage?.hostname ?? reimage?.serial ?? ''}`}
        busy={busy}
        onConfirm={() => void confirmReimage()}
        onCancel={() => setReimage(null)}
      >
        <p>
          {reimage?.hostname ?? reimage?.serial} will be offered network boot again and keeps its name. Power-cycle the
          board to start; what is on its card now will be overwritten.
        </p>
      </ConfirmDialog>
    </section>
  );
}
