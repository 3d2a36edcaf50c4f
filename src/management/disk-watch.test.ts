import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { createEventBus } from '../lib/event-bus.js';
import { createLogger } from '../lib/logger.js';
import type { FleetEvent } from '../protocol/events.js';
import { createDiskWatch } from './disk-watch.js';

function watch(lowBytes: number) {
  const dir = tempDir();
  const log = createLogger('silent');
  const events = createEventBus<FleetEvent>(log);
  const seen: FleetEvent[] = [];
  events.subscribe((e) => seen.push(e));
  return {
    dir,
    seen,
    watch: createDiskWatch({ path: dir.path, lowBytes, events, log, clock: () => new Date('2026-11-22T07:00:00Z') }),
  };
}

describe('disk watch', () => {
  it('announces low space once when it crosses the threshold, not on every check', async () => {
    const { dir, seen, watch: w } = watch(Number.MAX_SAFE_INTEGER);
    const first = await w.check();
    await w.check();
    dir.remove();
    expect(first).toMatchObject({ path: dir.path, low: true });
    expect(first.freeBytes).toBeGreaterThan(0);
    expect(first.totalBytes).toBeGreaterThanOrEqual(first.freeBytes);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      seq: null,
      type: 'disk.warning',
      data: { low: true, path: dir.path, message: expect.stringMatching(/free some space/i) },
    });
  });

  it('stays quiet while there is enough space', async () => {
    const { dir, seen, watch: w } = watch(0);
    expect((await w.check()).low).toBe(false);
    dir.remove();
    expect(seen).toEqual([]);
  });
});
