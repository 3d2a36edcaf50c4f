import type { FleetEvent } from '../../../src/protocol/events.js';
import { DEPLOYMENT_STATUSES, type Deployment, type DeploymentStatus } from '../../../src/protocol/fleet.js';

/**
 * The dashboard's model of the fleet: one board per physical board, built from a snapshot of
 * recent deployments and then moved by live events. Pure functions (state, input) → state, so
 * that the live page and its tests run the same code.
 *
 * Boards are keyed by the last 8 hex digits of their serial: the bootloader's DHCP request tells
 * only those (option 97), the agent the full serial, and both must land on one row. A board seen
 * with no serial at all is keyed by its MAC until it enrolls.
 */

/** A deployment phase, or a board known only from the network (`seen`) or turned away (`refused`). */
export type BoardPhase = 'seen' | DeploymentStatus | 'refused';
export const BOARD_PHASES: readonly BoardPhase[] = ['seen', ...DEPLOYMENT_STATUSES, 'refused'];

/** A deployment's bytes: written to the card (moves chunk by chunk) and read back right (moves by batch). */
export interface BoardProgress {
  writtenBytes: number;
  verifiedBytes: number;
  totalBytes: number | null;
  bytesPerSecond: number | null;
  etaSeconds: number | null;
  /** Fleet mode: chunks that came from other boards so far; null when the agent does not say. */
  chunksFromPeers: number | null;
  /** Chunks downloaded and written so far (the agent's write statistics); null when not sent. */
  chunksWritten: number | null;
}

export interface Board {
  key: string;
  /** the full serial once the board enrolled; the 8-digit one from DHCP before */
  serial: string;
  hostname: string | null;
  venue: string | null;
  product: string | null;
  ip: string | null;
  mac: string | null;
  deploymentId: number | null;
  phase: BoardPhase;
  /** why the board failed or was refused, as the server said it */
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  updatedAt: string;
  progress: BoardProgress | null;
  reimageRequested: boolean;
}

export interface FleetWarning {
  key: string;
  at: string;
  message: string;
}

export interface FleetView {
  boards: Readonly<Record<string, Board>>;
  /** newest first, one per key */
  warnings: readonly FleetWarning[];
}

export const EMPTY_FLEET: FleetView = { boards: {}, warnings: [] };
/** One disk warning at a time, whether it came from the live stream or the system status. */
export const DISK_WARNING_KEY = 'disk';
const MAX_WARNINGS = 20;

const isFinished = (phase: BoardPhase) => phase === 'success' || phase === 'failed' || phase === 'refused';

/** The key of a board known by serial (any length) or, failing that, by MAC. */
export function boardKey(serial: string | null | undefined, mac?: string | null): string | undefined {
  if (serial) return serial.toLowerCase().slice(-8);
  return mac ? `mac:${mac.toLowerCase()}` : undefined;
}

function fromDeployment(d: Deployment, previous: Board | undefined): Board {
  const same = previous?.deploymentId === d.id;
  return {
    key: boardKey(d.serial)!,
    serial: d.serial,
    hostname: d.hostname,
    venue: d.venue,
    product: d.product,
    ip: d.ip ?? previous?.ip ?? null,
    mac: d.mac ?? previous?.mac ?? null,
    deploymentId: d.id,
    phase: d.status,
    error: d.error,
    startedAt: d.enrolledAt,
    finishedAt: d.finishedAt,
    updatedAt: d.updatedAt,
    progress: same ? (previous?.progress ?? null) : null,
    reimageRequested: same ? (previous?.reimageRequested ?? false) : false,
  };
}

/**
 * Folds a snapshot of deployments into the view: the latest deployment per board wins, but a
 * board the live stream already knows a newer deployment of keeps it (the snapshot may be older
 * than the events that arrived while it was being fetched).
 */
export function mergeSnapshot(view: FleetView, deployments: readonly Deployment[]): FleetView {
  const boards: Record<string, Board> = { ...view.boards };
  for (const d of [...deployments].sort((a, b) => a.id - b.id)) {
    const key = boardKey(d.serial)!;
    const current = boards[key];
    if (current?.deploymentId !== null && current?.deploymentId !== undefined && current.deploymentId > d.id) continue;
    boards[key] = fromDeployment(d, current);
    if (d.mac) delete boards[`mac:${d.mac}`];
  }
  return { ...view, boards };
}

function blankBoard(key: string, serial: string, at: string): Board {
  return {
    key,
    serial,
    hostname: null,
    venue: null,
    product: null,
    ip: null,
    mac: null,
    deploymentId: null,
    phase: 'seen',
    error: null,
    startedAt: at,
    finishedAt: null,
    updatedAt: at,
    progress: null,
    reimageRequested: false,
  };
}

/**
 * Applies `change` to the board with this serial (or MAC), creating it when first seen. A longer
 * serial replaces the 8-digit one; a board known so far only by its MAC moves to its serial's key.
 */
function withBoard(
  view: FleetView,
  id: { serial?: string | null; mac?: string | null },
  at: string,
  change: (b: Board) => Partial<Board>,
): FleetView {
  const key = boardKey(id.serial, id.mac);
  if (key === undefined) return view;
  const byMac = id.serial && id.mac ? view.boards[`mac:${id.mac.toLowerCase()}`] : undefined;
  const current = view.boards[key] ?? (byMac && { ...byMac, key }) ?? blankBoard(key, id.serial ?? id.mac ?? key, at);
  const serial = id.serial && id.serial.length > current.serial.length ? id.serial.toLowerCase() : current.serial;
  const boards = {
    ...view.boards,
    [key]: { ...current, serial, ...(id.mac && !current.mac && { mac: id.mac }), ...change(current), updatedAt: at },
  };
  if (byMac) delete boards[byMac.key];
  return { ...view, boards };
}

function withWarning(view: FleetView, warning: FleetWarning): FleetView {
  const rest = view.warnings.filter((w) => w.key !== warning.key);
  return { ...view, warnings: [warning, ...rest].slice(0, MAX_WARNINGS) };
}

export function dismissWarning(view: FleetView, key: string): FleetView {
  return { ...view, warnings: view.warnings.filter((w) => w.key !== key) };
}

/** Fields an event from another component may carry; read defensively because they are optional. */
type LooseData = Record<string, unknown>;
const str = (d: LooseData, k: string) => (typeof d[k] === 'string' && d[k] !== '' ? d[k] : undefined);

/**
 * Events this build of the UI has no case for (from components that land later, such as network
 * boot): anything naming a `serial`/`serial8` or a `mac` shows the board as seen (with its IP),
 * and a `*.warning` or `*.foreign-server` event with a `message` is listed as a warning.
 */
function applyOtherEvent(view: FleetView, type: string, at: string, data: LooseData): FleetView {
  let next = view;
  if ((type.endsWith('.warning') || type.endsWith('.foreign-server')) && str(data, 'message')) {
    next = withWarning(next, {
      key: `${type}:${str(data, 'code') ?? str(data, 'interface') ?? str(data, 'venue') ?? ''}`,
      at,
      message: str(data, 'message')!,
    });
  }
  const serial = str(data, 'serial') ?? str(data, 'serial8');
  const mac = str(data, 'mac');
  if (!serial && !mac) return next;
  const ip = str(data, 'ip');
  return withBoard(next, { serial: serial ?? null, mac: mac ?? null }, at, () => (ip ? { ip } : {}));
}

/** A deployment that succeeded wrote and verified everything, whatever the last report said. */
function successProgress(p: BoardProgress): BoardProgress {
  const all = p.totalBytes ?? Math.max(p.writtenBytes, p.verifiedBytes);
  return { ...p, writtenBytes: all, verifiedBytes: all, etaSeconds: 0 };
}

/** Moves the view by one live event. Unknown and malformed events never throw. */
export function applyEvent(view: FleetView, event: FleetEvent): FleetView {
  switch (event.type) {
    case 'hostname.assigned': {
      const d = (event as FleetEvent<'hostname.assigned'>).data;
      return withBoard(view, { serial: d.serial }, event.at, () => ({
        hostname: d.hostname,
        venue: d.venue,
        product: d.product,
      }));
    }
    case 'deployment.phase': {
      const d = (event as FleetEvent<'deployment.phase'>).data;
      return withBoard(view, { serial: d.serial }, event.at, (b) => {
        const isNew = b.deploymentId !== d.deploymentId;
        if (!isNew && b.deploymentId !== null && isFinished(b.phase) && !isFinished(d.phase)) return {}; // a late, out-of-order event
        return {
          deploymentId: d.deploymentId,
          hostname: d.hostname,
          venue: d.venue,
          product: d.product,
          phase: d.phase,
          error: d.error,
          ...(d.ip && { ip: d.ip }),
          ...(isNew && { startedAt: event.at, progress: null, reimageRequested: false }),
          finishedAt: isFinished(d.phase) ? event.at : null,
          ...(d.phase === 'success' && b.progress && { progress: successProgress(b.progress) }),
        };
      });
    }
    case 'deployment.progress': {
      const d = (event as FleetEvent<'deployment.progress'>).data;
      return withBoard(view, { serial: d.serial }, event.at, (b) => {
        // Progress of an attempt that already ended, or of an older attempt, changes nothing.
        if (isFinished(b.phase) || (b.deploymentId !== null && b.deploymentId !== d.deploymentId)) return {};
        return {
          deploymentId: d.deploymentId,
          hostname: d.hostname,
          phase: d.phase,
          progress: {
            writtenBytes: d.bytesWritten,
            verifiedBytes: d.bytesDone,
            totalBytes: d.bytesTotal > 0 ? d.bytesTotal : null,
            bytesPerSecond: d.rateBytesPerSec > 0 ? d.rateBytesPerSec : null,
            etaSeconds: null,
            chunksFromPeers: d.chunksFromPeers ?? null,
            chunksWritten: d.writeStats?.chunksWritten ?? null,
          },
        };
      });
    }
    case 'enroll.refused': {
      const d = (event as FleetEvent<'enroll.refused'>).data;
      return withBoard(view, { serial: d.serial }, event.at, (b) => ({
        phase: 'refused',
        error: d.message,
        venue: d.venue ?? b.venue,
        product: d.product ?? b.product,
        finishedAt: event.at,
      }));
    }
    case 'device.reimage': {
      const d = (event as FleetEvent<'device.reimage'>).data;
      return withBoard(view, { serial: d.serial }, event.at, () => ({ reimageRequested: true }));
    }
    case 'pool.warning': {
      const d = (event as FleetEvent<'pool.warning'>).data;
      return withWarning(view, { key: `pool.warning:${d.venue}:${d.product}`, at: event.at, message: d.message });
    }
    case 'disk.warning': {
      const d = (event as FleetEvent<'disk.warning'>).data;
      return d.low
        ? withWarning(view, { key: DISK_WARNING_KEY, at: event.at, message: d.message })
        : dismissWarning(view, DISK_WARNING_KEY);
    }
    case 'hostname.released':
    case 'batch.status':
    case 'pool.imported':
    case 'image.progress':
      return view;
    default:
      return applyOtherEvent(view, (event as { type: string }).type, event.at, event.data ?? {});
  }
}

/** How many boards are in each phase (every phase present, zero or not). */
export function countByPhase(boards: readonly Board[]): Record<BoardPhase, number> {
  const counts = Object.fromEntries(BOARD_PHASES.map((p) => [p, 0])) as Record<BoardPhase, number>;
  for (const b of boards) counts[b.phase]++;
  return counts;
}

/** Named boards in kart-number order (natural sort), then boards seen but not yet named. */
export function sortedBoards(view: FleetView): Board[] {
  const collator = new Intl.Collator('en', { numeric: true });
  return Object.values(view.boards).sort((a, b) => {
    if (a.hostname && b.hostname) return collator.compare(a.hostname, b.hostname);
    if (a.hostname || b.hostname) return a.hostname ? -1 : 1;
    return collator.compare(a.key, b.key);
  });
}

/** Phases in which a board moves bytes; a board `enrolled` has not started and counts as pending. */
const isImaging = (phase: BoardPhase) => phase === 'downloading' || phase === 'writing' || phase === 'verifying';

export interface FleetSummary {
  /** boards downloading, writing or verifying */
  imaging: number;
  /** sum of those boards' current write rates (bytes per second) */
  bytesPerSecond: number;
  /** image bytes still to be written and verified, pending boards included when their size can be guessed */
  remainingBytes: number;
  /** remaining bytes over the aggregate rate; null while no rate is known */
  etaSeconds: number | null;
}

/**
 * The fleet view's totals. `pendingBoards` are boards of the running batches that have not
 * started yet (expected minus assigned, plus those enrolled and not yet downloading); each is
 * counted at the mean image size of the boards imaging now, the best guess before it enrolls.
 */
export function summarizeFleet(boards: readonly Board[], pendingBoards: number): FleetSummary {
  let imaging = 0;
  let bytesPerSecond = 0;
  let remainingBytes = 0;
  let totals = 0;
  let sized = 0;
  for (const b of boards) {
    if (!isImaging(b.phase)) continue;
    imaging++;
    const p = b.progress;
    bytesPerSecond += p?.bytesPerSecond ?? 0;
    if (p?.totalBytes) {
      remainingBytes += Math.max(0, p.totalBytes - p.verifiedBytes);
      totals += p.totalBytes;
      sized++;
    }
  }
  const enrolled = boards.filter((b) => b.phase === 'enrolled').length;
  if (sized > 0) remainingBytes += Math.round(((pendingBoards + enrolled) * totals) / sized);
  return {
    imaging,
    bytesPerSecond,
    remainingBytes,
    etaSeconds: bytesPerSecond > 0 ? remainingBytes / bytesPerSecond : null,
  };
}

/** Where a board's chunks come from: the server, or other boards for `fromPeers` of `of` chunks. */
export type BoardSource = { kind: 'server' } | { kind: 'peers'; fromPeers: number; of: number | null };

/** null while the agent has not said (an older agent, or no report yet). */
export function boardSource(b: Board): BoardSource | null {
  const fromPeers = b.progress?.chunksFromPeers;
  if (fromPeers === null || fromPeers === undefined) return null;
  if (fromPeers === 0) return { kind: 'server' };
  const written = b.progress?.chunksWritten ?? null;
  // The two counters are read at slightly different moments by parallel fetches: never show n of fewer than n.
  return { kind: 'peers', fromPeers, of: written === null ? null : Math.max(written, fromPeers) };
}
