import { statfs } from 'node:fs/promises';
import { createEmit, type EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { FleetEvent, FleetEvents } from '../protocol/events.js';
import type { DiskStatus } from '../protocol/management-api.js';
import { formatBytes } from '../protocol/units.js';

/**
 * Watches the free space of the data directory (database, image store). Crossing below the
 * threshold, and back above it, is announced on the event stream for the dashboard; the current
 * state is also part of GET /system, so a page opened later still sees the warning.
 */
export interface DiskWatch {
  check(): Promise<DiskStatus>;
  start(): void;
  stop(): void;
}

const CHECK_EVERY_MS = 30_000;

export function createDiskWatch(deps: {
  path: string;
  lowBytes: number;
  events: EventBus<FleetEvent>;
  log: Logger;
  clock: () => Date;
}): DiskWatch {
  let timer: NodeJS.Timeout | undefined;
  let wasLow = false;
  const emit = createEmit<FleetEvents>(deps.events, deps.clock);

  async function check(): Promise<DiskStatus> {
    const s = await statfs(deps.path);
    const freeBytes = s.bavail * s.bsize;
    const status: DiskStatus = {
      path: deps.path,
      freeBytes,
      totalBytes: s.blocks * s.bsize,
      low: freeBytes < deps.lowBytes,
    };
    if (status.low !== wasLow) {
      wasLow = status.low;
      const free = formatBytes(freeBytes);
      const message = status.low
        ? `Only ${free} free in ${deps.path}; image imports and the database may fail. Free some space.`
        : `Disk space recovered: ${free} free in ${deps.path}`;
      if (status.low) deps.log.warn({ path: deps.path, freeBytes }, 'disk space low');
      emit('disk.warning', { path: deps.path, freeBytes, totalBytes: status.totalBytes, low: status.low, message });
    }
    return status;
  }

  return {
    check,
    start() {
      const tick = () =>
        void check().catch((err: unknown) => deps.log.error({ err, path: deps.path }, 'disk space check failed'));
      tick();
      timer = setInterval(tick, CHECK_EVERY_MS);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
