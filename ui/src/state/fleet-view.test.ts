import { describe, expect, it } from 'vitest';
import type { FleetEvent, FleetEvents, FleetEventType } from '../../../src/protocol/events.js';
import type { Deployment } from '../../../src/protocol/fleet.js';
import {
  applyEvent,
  boardSource,
  countByPhase,
  dismissWarning,
  EMPTY_FLEET,
  mergeSnapshot,
  sortedBoards,
  summarizeFleet,
  type FleetView,
} from './fleet-view.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 7, 0, s)).toISOString();
let seq = 0;
function ev<K extends FleetEventType>(type: K, data: FleetEvents[K], s = 0): FleetEvent {
  return { seq: ++seq, at: at(s), type, data };
}
function phase(
  serial: string,
  deploymentId: number,
  p: FleetEvents['deployment.phase']['phase'],
  s = 0,
  error: string | null = null,
  ip: string | null = null,
) {
  return ev(
    'deployment.phase',
    { deploymentId, serial, hostname: `KXP2-CORO-${serial}`, venue: 'CORO', product: 'KXP2', phase: p, error, ip },
    s,
  );
}
function progress(
  serial: string,
  deploymentId: number,
  bytesWritten: number,
  bytesDone: number,
  bytesTotal: number,
  rateBytesPerSec: number,
  s = 0,
  fleet: Pick<FleetEvents['deployment.progress'], 'chunksFromPeers' | 'writeStats'> = {},
) {
  const data = {
    ...fleet,
    deploymentId,
    serial,
    hostname: `KXP2-CORO-${serial}`,
    phase: 'writing' as const,
    bytesWritten,
    bytesDone,
    bytesTotal,
    rateBytesPerSec,
    chunksVerified: 0,
  };
  return { ...ev('deployment.progress', data, s), seq: null };
}
/** An event type this build has no case for, as another component would send it. */
const other = (type: string, data: Record<string, unknown>, s = 0) =>
  ({ seq: null, at: at(s), type, data }) as unknown as FleetEvent;

function deployment(over: Partial<Deployment>): Deployment {
  return {
    id: 1,
    serial: '10000001',
    hostname: 'KXP2-CORO-001',
    venue: 'CORO',
    product: 'KXP2',
    batchId: null,
    imageId: null,
    status: 'writing',
    error: null,
    ip: '198.18.0.10',
    mac: '2c:cf:67:00:00:01',
    enrolledAt: at(0),
    downloadingAt: null,
    writingAt: null,
    verifyingAt: null,
    customizingAt: null,
    finishedAt: null,
    updatedAt: at(5),
    imaging: null,
    writeStats: null,
    ...over,
  };
}

const fold = (events: FleetEvent[], start: FleetView = EMPTY_FLEET) => events.reduce(applyEvent, start);

describe('applyEvent', () => {
  it('shows a board the moment it is seen, then names it and follows its phases to success', () => {
    const view = fold([
      other('dhcp.seen', { serial8: '0badcafe', mac: '2c:cf:67:aa:bb:cc', ip: '198.18.0.20', model: 'pi5' }, 0),
      ev(
        'hostname.assigned',
        {
          serial: '100000000badcafe',
          hostname: 'KXP2-CORO-007',
          venue: 'CORO',
          product: 'KXP2',
          batchId: 1,
          reused: false,
        },
        1,
      ),
      phase('100000000badcafe', 9, 'enrolled', 1),
      phase('100000000badcafe', 9, 'writing', 2),
      progress('100000000badcafe', 9, 75e6, 50e6, 100e6, 25e6, 3),
    ]);
    expect(Object.keys(view.boards)).toEqual(['0badcafe']);
    expect(view.boards['0badcafe']?.progress).toEqual({
      writtenBytes: 75e6,
      verifiedBytes: 50e6,
      totalBytes: 100e6,
      bytesPerSecond: 25e6,
      etaSeconds: null,
      chunksFromPeers: null,
      chunksWritten: null,
    });
    const done = applyEvent(view, phase('100000000badcafe', 9, 'success', 6));
    expect(done.boards['0badcafe']).toMatchObject({
      serial: '100000000badcafe',
      phase: 'success',
      hostname: 'KXP2-CORO-100000000badcafe',
      mac: '2c:cf:67:aa:bb:cc',
      ip: '198.18.0.20',
      deploymentId: 9,
      startedAt: at(1),
      finishedAt: at(6),
      progress: { writtenBytes: 100e6, verifiedBytes: 100e6, totalBytes: 100e6, etaSeconds: 0 },
    });
  });

  it('a seen board starts in phase "seen"; one seen only by MAC moves to its serial when it tells it', () => {
    expect(fold([other('dhcp.seen', { serial8: 'b2' })]).boards['b2']?.phase).toBe('seen');
    const byMac = fold([other('dhcp.offer', { mac: '2c:cf:67:00:00:09', serial8: null, ip: '198.18.0.9' })]);
    expect(Object.keys(byMac.boards)).toEqual(['mac:2c:cf:67:00:00:09']);
    const named = applyEvent(
      byMac,
      other('dhcp.ack', { mac: '2c:cf:67:00:00:09', serial8: '12345678', ip: '198.18.0.9' }),
    );
    expect(Object.keys(named.boards)).toEqual(['12345678']);
    expect(named.boards['12345678']).toMatchObject({ ip: '198.18.0.9', mac: '2c:cf:67:00:00:09', phase: 'seen' });
  });

  it('a failed board keeps the reason; a re-image request is flagged; a new deployment resets progress', () => {
    const failed = fold([
      phase('c3', 1, 'writing', 0),
      progress('c3', 1, 20, 10, 100, 5, 1),
      phase('c3', 1, 'failed', 2, 'card write error'),
    ]);
    expect(failed.boards['c3']).toMatchObject({ phase: 'failed', error: 'card write error', finishedAt: at(2) });
    const requested = applyEvent(failed, ev('device.reimage', { serial: 'c3', hostname: 'KXP2-CORO-c3' }, 3));
    expect(requested.boards['c3']?.reimageRequested).toBe(true);
    const again = applyEvent(requested, phase('c3', 2, 'enrolled', 4));
    expect(again.boards['c3']).toMatchObject({
      phase: 'enrolled',
      error: null,
      progress: null,
      reimageRequested: false,
      finishedAt: null,
      startedAt: at(4),
    });
  });

  it('ignores progress of an older attempt', () => {
    const view = fold([phase('e6', 2, 'downloading', 1), progress('e6', 1, 60, 50, 100, 10, 2)]);
    expect(view.boards['e6']?.progress).toBeNull();
  });

  it('ignores a late "writing" for a deployment that already finished, and progress after the end', () => {
    const view = fold([phase('d4', 1, 'success', 5), phase('d4', 1, 'writing', 3), progress('d4', 1, 2, 1, 100, 5, 6)]);
    expect(view.boards['d4']).toMatchObject({ phase: 'success', progress: null });
  });

  it('a refused enrollment shows the server message', () => {
    const view = fold([
      ev('enroll.refused', {
        serial: 'e5',
        venue: 'CORO',
        product: 'KXP2',
        code: 'FLEET_POOL_EXHAUSTED',
        message: 'CORO has no free numbers',
      }),
    ]);
    expect(view.boards['e5']).toMatchObject({ phase: 'refused', error: 'CORO has no free numbers' });
  });

  it('keeps one warning per source, newest first, and lets the operator dismiss it', () => {
    const view = fold([
      ev('pool.warning', { venue: 'CORO', product: 'KXP2', available: 3, message: 'Only 3 left' }, 1),
      other('dhcp.foreign-server', { interface: 'lan0', message: 'Another DHCP server answers on lan0' }, 2),
      ev('pool.warning', { venue: 'CORO', product: 'KXP2', available: 2, message: 'Only 2 left' }, 3),
    ]);
    expect(view.warnings.map((w) => w.message)).toEqual(['Only 2 left', 'Another DHCP server answers on lan0']);
    expect(dismissWarning(view, view.warnings[0]!.key).warnings).toHaveLength(1);
  });

  it('a snapshot deployment takes over the row of a board seen only by its MAC', () => {
    const seen = fold([other('dhcp.seen', { mac: '2c:cf:67:00:00:01', serial8: null })]);
    expect(Object.keys(mergeSnapshot(seen, [deployment({})]).boards)).toEqual(['10000001']);
  });

  it('a disk warning shows while the disk is low and goes when it recovers', () => {
    const disk = (low: boolean) =>
      ev('disk.warning', {
        path: '/var/lib/rpi-deploy',
        freeBytes: low ? 1e9 : 50e9,
        totalBytes: 100e9,
        low,
        message: low ? 'Disk space low' : 'Disk space ok',
      });
    const low = fold([disk(true)]);
    expect(low.warnings.map((w) => [w.key, w.message])).toEqual([['disk', 'Disk space low']]);
    expect(applyEvent(low, disk(false)).warnings).toEqual([]);
  });

  it('never throws on events it does not know or that carry nothing useful', () => {
    expect(
      fold([
        other('tftp.served', {}),
        other('x', { serial: 42 }),
        ev('batch.status', { batchId: 1, venue: 'CORO', product: 'KXP2', status: 'active' }),
      ]),
    ).toEqual(EMPTY_FLEET);
  });
});

describe('mergeSnapshot', () => {
  it('takes the latest deployment per board and keeps live progress of the same deployment', () => {
    const live = fold([phase('10000001', 2, 'writing'), progress('10000001', 2, 5, 5, 10, 1)]);
    const view = mergeSnapshot(live, [
      deployment({ id: 1, status: 'failed' }),
      deployment({ id: 2, status: 'writing' }),
    ]);
    expect(view.boards['10000001']).toMatchObject({
      deploymentId: 2,
      phase: 'writing',
      ip: '198.18.0.10',
      progress: { verifiedBytes: 5 },
    });
  });

  it('does not let an older snapshot undo a newer live deployment', () => {
    const live = fold([phase('10000001', 3, 'enrolled')]);
    expect(mergeSnapshot(live, [deployment({ id: 2, status: 'success' })]).boards['10000001']?.deploymentId).toBe(3);
  });
});

describe('countByPhase and sortedBoards', () => {
  it('counts every phase and orders boards by kart number, unnamed last', () => {
    const view = mergeSnapshot(EMPTY_FLEET, [
      deployment({ id: 1, serial: 's1', hostname: 'KXP2-CORO-010', status: 'success' }),
      deployment({ id: 2, serial: 's2', hostname: 'KXP2-CORO-002', status: 'failed' }),
    ]);
    const withSeen = applyEvent(view, other('dhcp.seen', { serial8: 's0' }));
    const boards = sortedBoards(withSeen);
    expect(boards.map((b) => b.key)).toEqual(['s2', 's1', 's0']);
    expect(countByPhase(boards)).toMatchObject({ seen: 1, success: 1, failed: 1, writing: 0 });
  });
});

describe('the board address', () => {
  it('shows where a board enrolled from at once, and keeps it through phases that do not say', () => {
    let view = applyEvent(EMPTY_FLEET, phase('10000001', 1, 'enrolled', 0, null, '198.18.0.101'));
    expect(view.boards['10000001']?.ip).toBe('198.18.0.101');
    view = applyEvent(view, phase('10000001', 1, 'writing', 1));
    expect(view.boards['10000001']?.ip).toBe('198.18.0.101');
  });
});

describe("fleet view: aggregate rate, time left, each board's source", () => {
  const writeStats = (chunksWritten: number) => ({
    mode: 'full' as const,
    verify: 'full' as const,
    chunksUsed: 100,
    chunksReadFirst: 0,
    chunksReused: 0,
    bytesReused: 0,
    chunksWritten,
    bytesWritten: 0,
    bytesReadFirst: 0,
    bytesReadBack: 0,
    readFirstStops: 0,
  });

  it("sums the imaging boards' rates and reckons the batch's time left from verified bytes", () => {
    const view = fold([
      phase('a1', 1, 'writing', 1),
      phase('a2', 2, 'writing', 1),
      phase('a3', 3, 'writing', 1),
      phase('a4', 4, 'enrolled', 1),
      progress('a1', 1, 60e6, 40e6, 100e6, 20e6, 2),
      progress('a2', 2, 30e6, 10e6, 100e6, 30e6, 2),
      progress('a3', 3, 100e6, 100e6, 100e6, 50e6, 2),
      phase('a3', 3, 'success', 3),
    ]);
    const boards = sortedBoards(view);
    // a3 finished: its rate no longer counts; a4 enrolled and 2 more expected count at the mean image size.
    expect(summarizeFleet(boards, 2)).toEqual({
      imaging: 2,
      bytesPerSecond: 50e6,
      remainingBytes: 60e6 + 90e6 + 3 * 100e6,
      etaSeconds: (60e6 + 90e6 + 3 * 100e6) / 50e6,
    });
    expect(summarizeFleet([], 5)).toEqual({ imaging: 0, bytesPerSecond: 0, remainingBytes: 0, etaSeconds: null });
  });

  it('shows a board fed by the server, one fed by peers (n of m chunks), one whose agent does not say', () => {
    const view = fold([
      phase('b1', 1, 'writing', 1),
      phase('b2', 2, 'writing', 1),
      phase('b3', 3, 'writing', 1),
      progress('b1', 1, 1, 0, 100, 1, 2, { chunksFromPeers: 0, writeStats: writeStats(12) }),
      progress('b2', 2, 1, 0, 100, 1, 2, { chunksFromPeers: 9, writeStats: writeStats(12) }),
      progress('b3', 3, 1, 0, 100, 1, 2),
      progress('b2', 2, 1, 0, 100, 1, 3, { chunksFromPeers: 11, writeStats: writeStats(10) }),
    ]);
    expect(boardSource(view.boards['b1']!)).toEqual({ kind: 'server' });
    expect(boardSource(view.boards['b2']!)).toEqual({ kind: 'peers', fromPeers: 11, of: 11 });
    expect(boardSource(view.boards['b3']!)).toBeNull();
  });
});
