import { checkSchema } from '../lib/validate.js';
import type { FleetEvents, FleetEventType } from '../protocol/events.js';
import {
  DeploymentFilter,
  type Deployment,
  type DeploymentStatus,
  type Device,
  type HistoryEntry,
} from '../protocol/fleet.js';
import { isClosedAfterSuccess } from './deployment-state.js';
import { deploymentCountsByStatus, findDeployment, latestDeploymentOf, listDeployments } from './deployments.repo.js';
import { findDevice, findDevicesBySerial8, listDevices } from './devices.repo.js';
import { FleetError, invalidInput } from './errors.js';
import { parseProductCode, parseSerial, parseVenueCode } from './hostname.js';
import { deleteHistoryBefore, lastHistorySeq, listHistory } from './history.repo.js';
import { unitOfWork, type FleetDeps } from './unit-of-work.js';

/** Reading what happened (deployments, boards, history), and recording events other components keep. */
export interface RecordsService {
  deployments(filter?: DeploymentFilter): Promise<Deployment[]>;
  deployment(id: number): Promise<{ deployment: Deployment; history: HistoryEntry[] }>;
  devices(page?: { limit?: number; offset?: number }): Promise<Device[]>;
  device(serial: string): Promise<{ device: Device; deployments: Deployment[] }>;
  /** History in order; `afterSeq` lets a reconnecting client catch up on what it missed. */
  history(filter: {
    afterSeq?: number;
    deploymentId?: number;
    serial?: string;
    limit?: number;
  }): Promise<HistoryEntry[]>;
  /** How many deployments are in each phase now (phases without any are left out). */
  deploymentCounts(): Promise<Partial<Record<DeploymentStatus, number>>>;
  /** The seq of the newest history entry (0 if none): where a live client that wants no catch-up starts. */
  lastSeq(): Promise<number>;
  /**
   * Whether network boot may be offered to a board known by its 8-digit serial (all the
   * bootloader tells). A board whose last deployment succeeded is not offered it again until an
   * operator asks for a re-image: boards that netboot forever after success are a known trap.
   */
  netbootAllowed(serial8: string): Promise<{ allowed: boolean; reason: string }>;
  /**
   * History retention: deletes the history events older than `before` (an ISO timestamp) and
   * returns how many went. Deployments, boards and names are not history: every deployment's
   * current state stays whatever its age.
   */
  pruneHistory(before: string): Promise<number>;
  /** Keeps an event from another component (a board seen in DHCP, a file served) and publishes it. */
  record<K extends FleetEventType>(
    type: K,
    data: FleetEvents[K],
    refs?: { deploymentId?: number; serial?: string },
  ): Promise<void>;
}

const HISTORY_PAGE_MAX = 10_000;

export function createRecordsService(deps: FleetDeps): RecordsService {
  const { store } = deps;
  return {
    async deployments(filter = {}) {
      const f = checkSchema(DeploymentFilter, filter, invalidInput);
      return listDeployments(store.db, {
        ...f,
        ...(f.venue && { venue: parseVenueCode(f.venue) }),
        ...(f.product && { product: parseProductCode(f.product) }),
        ...(f.serial && { serial: parseSerial(f.serial).serial }),
        ...(f.since && { since: timestamp('since', f.since) }),
        ...(f.until && { until: timestamp('until', f.until) }),
      });
    },

    async deployment(id) {
      const deployment = await findDeployment(store.db, id);
      if (!deployment)
        throw new FleetError('FLEET_DEPLOYMENT_UNKNOWN', `Deployment ${id} does not exist`, { deploymentId: id });
      return { deployment, history: await listHistory(store.db, { deploymentId: id, limit: HISTORY_PAGE_MAX }) };
    },

    devices: (page = {}) => listDevices(store.db, { limit: page.limit ?? 1000, offset: page.offset ?? 0 }),

    async device(input) {
      const { serial } = parseSerial(input);
      const device = await findDevice(store.db, serial);
      if (!device)
        throw new FleetError('FLEET_DEVICE_UNKNOWN', `No board with serial ${serial} has been seen`, { serial });
      return { device, deployments: await listDeployments(store.db, { serial, limit: 1000 }) };
    },

    history: (filter) => listHistory(store.db, { ...filter, limit: Math.min(filter.limit ?? 1000, HISTORY_PAGE_MAX) }),
    lastSeq: () => lastHistorySeq(store.db),
    deploymentCounts: () => deploymentCountsByStatus(store.db, undefined),

    async netbootAllowed(input) {
      const { serial8 } = parseSerial(input);
      const [device] = await findDevicesBySerial8(store.db, serial8);
      if (!device) return { allowed: true, reason: 'new board' };
      const latest = await latestDeploymentOf(store.db, device.serial);
      if (latest?.status !== 'success')
        return { allowed: true, reason: latest ? `last deployment ${latest.status}` : 'never deployed' };
      if (!isClosedAfterSuccess(device, latest)) return { allowed: true, reason: 're-image requested' };
      return {
        allowed: false,
        reason: `imaged successfully as ${latest.hostname} (deployment ${latest.id}); request a re-image to boot it from the network again`,
      };
    },

    pruneHistory: (before) => store.transaction((tx) => deleteHistoryBefore(tx, timestamp('before', before))),

    record: (type, data, refs = {}) => unitOfWork(deps, (_tx, out) => out.record(type, data, refs)),
  };
}

/** Accepts a date (`2026-11-22`) or a full timestamp and returns the ISO form stored in the database. */
function timestamp(field: string, value: string): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `${field} must be a date like 2026-11-22 or an ISO timestamp; got ${JSON.stringify(value)}`,
      { field },
    );
  }
  return new Date(ms).toISOString();
}
