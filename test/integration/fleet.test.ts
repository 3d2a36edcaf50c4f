import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetError } from '../../src/fleet/index.js';
import type { FleetEvent } from '../../src/protocol/events.js';
import { openTestCore } from '../helpers/start-server.js';

type TestCore = Awaited<ReturnType<typeof openTestCore>>;
let core: TestCore;
let events: FleetEvent[];

beforeEach(async () => {
  core = await openTestCore();
  events = [];
  core.events.subscribe((e) => events.push(e));
});
afterEach(() => core.dispose());

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FleetError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

async function venueWithPool(code = 'CORO', range = '1-3') {
  await core.fleet.venues.create({ code, name: `${code} Karting` });
  return core.fleet.pools.import({ venue: code, text: range });
}

describe('venues', () => {
  it('stores codes upper-case and edits, lists and shows them', async () => {
    const v = await core.fleet.venues.create({ code: 'coro', name: ' Corona Karting ', location: 'California' });
    expect(v).toMatchObject({ code: 'CORO', name: 'Corona Karting', location: 'California', contact: null });
    await core.fleet.venues.update('CORO', { contact: 'ops@example.org', location: '' });
    expect(await core.fleet.venues.get('coro')).toMatchObject({ contact: 'ops@example.org', location: null });
    expect((await core.fleet.venues.list()).map((x) => x.code)).toEqual(['CORO']);
  });

  it.each([
    [{ code: 'COR', name: 'x' }, 'FLEET_VENUE_CODE_INVALID'],
    [{ code: 'CORON', name: 'x' }, 'FLEET_VENUE_CODE_INVALID'],
    [{ code: 'CORO', name: '' }, 'FLEET_INPUT_INVALID'],
    [{ code: 'CORO', name: 'x'.repeat(500) }, 'FLEET_INPUT_INVALID'],
    [{ code: 'CORO', name: 'x', extra: 1 }, 'FLEET_INPUT_INVALID'],
    [{ code: 5, name: 'x' }, 'FLEET_INPUT_INVALID'],
  ])('refuses %j with %s and writes nothing', async (input, code) => {
    expect(await codeOf(core.fleet.venues.create(input as never))).toBe(code);
    expect(await core.fleet.venues.list()).toEqual([]);
  });

  it('refuses a duplicate code', async () => {
    await core.fleet.venues.create({ code: 'CORO', name: 'a' });
    expect(await codeOf(core.fleet.venues.create({ code: 'coro', name: 'b' }))).toBe('FLEET_VENUE_EXISTS');
  });

  it('keeps unicode names intact', async () => {
    const v = await core.fleet.venues.create({ code: 'MUNI', name: 'Kartbahn München — Süd 🏁' });
    expect((await core.fleet.venues.get('MUNI')).name).toBe(v.name);
  });

  it('refuses to delete a venue whose names are held, unless forced; history survives', async () => {
    await venueWithPool();
    const e = await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    expect(await codeOf(core.fleet.venues.remove('CORO'))).toBe('FLEET_VENUE_IN_USE');
    expect(await core.fleet.venues.remove('CORO', { force: true })).toEqual({ releasedHostnames: ['KXP2-CORO-001'] });
    expect(await codeOf(core.fleet.venues.get('CORO'))).toBe('FLEET_VENUE_UNKNOWN');
    expect((await core.fleet.records.deployment(e.deployment.id)).deployment.hostname).toBe('KXP2-CORO-001');
    expect(await core.store.db.selectFrom('pool_entries').selectAll().execute()).toEqual([]);
  });
});

describe('products', () => {
  it('has KXP2 (pool) and RXP2 (serial) built in and accepts operator-defined ones', async () => {
    expect((await core.fleet.products.list()).map((p) => [p.code, p.naming])).toEqual([
      ['KXP2', 'pool'],
      ['RXP2', 'serial'],
    ]);
    await core.fleet.products.create({
      code: 'DXP1',
      name: 'Drift recorder',
      hostnamePattern: 'DXP1-{venue}-{number:2}',
    });
    await core.fleet.venues.create({ code: 'ARIA', name: 'Aria' });
    const r = await core.fleet.pools.import({ venue: 'ARIA', product: 'dxp1', text: '7' });
    expect(r.added).toBe(1);
    expect((await core.fleet.pools.list({ venue: 'ARIA' })).map((p) => p.hostname)).toEqual(['DXP1-ARIA-07']);
  });

  it('refuses bad patterns, duplicates and deleting built-in or used products', async () => {
    expect(
      await codeOf(core.fleet.products.create({ code: 'BAD1', name: 'x', hostnamePattern: 'BAD1-{number}' })),
    ).toBe('FLEET_PATTERN_INVALID');
    expect(
      await codeOf(core.fleet.products.create({ code: 'KXP2', name: 'x', hostnamePattern: 'K-{venue}-{number}' })),
    ).toBe('FLEET_PRODUCT_EXISTS');
    expect(await codeOf(core.fleet.products.remove('KXP2'))).toBe('FLEET_PRODUCT_IN_USE');
    await core.fleet.products.create({ code: 'DXP1', name: 'x', hostnamePattern: 'DXP1-{venue}-{number:2}' });
    await core.fleet.venues.create({ code: 'ARIA', name: 'Aria' });
    await core.fleet.pools.import({ venue: 'ARIA', product: 'DXP1', text: '1' });
    expect(await codeOf(core.fleet.products.remove('DXP1'))).toBe('FLEET_PRODUCT_IN_USE');
  });
});

describe('hostname pools', () => {
  it('imports lists, ranges and CSV, reporting duplicates and invalid entries per line', async () => {
    await core.fleet.venues.create({ code: 'CORO', name: 'x' });
    const first = await core.fleet.pools.import({ venue: 'coro', text: '1-3' });
    expect(first).toMatchObject({ added: 3, duplicates: 0, invalid: 0, product: 'KXP2' });
    const second = await core.fleet.pools.import({ venue: 'CORO', text: 'number,label\n3,x\n4,y\nfive,z\n4,again' });
    expect(second).toMatchObject({ added: 1, duplicates: 2, invalid: 1 });
    expect(second.lines).toEqual([
      { line: 2, text: '3,x', added: [], duplicates: [3], errors: [] },
      { line: 3, text: '4,y', added: [4], duplicates: [], errors: [] },
      {
        line: 4,
        text: 'five,z',
        added: [],
        duplicates: [],
        errors: ['"five" is not a number or a range (e.g. 7 or 1-60)'],
      },
      { line: 5, text: '4,again', added: [], duplicates: [4], errors: [] },
    ]);
    expect((await core.fleet.pools.list({ venue: 'CORO' })).map((e) => e.hostname)).toEqual([
      'KXP2-CORO-001',
      'KXP2-CORO-002',
      'KXP2-CORO-003',
      'KXP2-CORO-004',
    ]);
    expect(events.filter((e) => e.type === 'pool.imported')).toHaveLength(2);
  });

  it('previews an import without writing anything', async () => {
    await venueWithPool('CORO', '1-2');
    const preview = await core.fleet.pools.import({ venue: 'CORO', text: '2\n3\nx', dryRun: true });
    expect(preview).toMatchObject({ added: 1, duplicates: 1, invalid: 1 });
    expect((await core.fleet.pools.stats({ venue: 'CORO' }))[0]?.total).toBe(2);
    expect(events.filter((e) => e.type === 'pool.imported')).toHaveLength(1);
  });

  it('explains that serial-named products need no pool, and that venues must exist', async () => {
    await core.fleet.venues.create({ code: 'CORO', name: 'x' });
    expect(await codeOf(core.fleet.pools.import({ venue: 'CORO', product: 'RXP2', text: '1' }))).toBe(
      'FLEET_PRODUCT_NOT_POOLED',
    );
    expect(await codeOf(core.fleet.pools.import({ venue: 'NOPE', text: '1' }))).toBe('FLEET_VENUE_UNKNOWN');
    expect(await codeOf(core.fleet.pools.import({ venue: 'CORO', text: '1-100000,100001-100002' }))).toBe(
      'FLEET_POOL_INPUT_TOO_LARGE',
    );
    expect(await core.fleet.pools.stats()).toEqual([]);
  });

  it('asks which product when several use pools', async () => {
    await core.fleet.products.create({ code: 'DXP1', name: 'x', hostnamePattern: 'DXP1-{venue}-{number:2}' });
    await core.fleet.venues.create({ code: 'CORO', name: 'x' });
    expect(await codeOf(core.fleet.pools.import({ venue: 'CORO', text: '1' }))).toBe('FLEET_PRODUCT_AMBIGUOUS');
  });

  it('releases a name back to the pool, keeps history and retires numbers', async () => {
    await venueWithPool();
    await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    expect(await codeOf(core.fleet.pools.retire('KXP2-CORO-001'))).toBe('FLEET_HOSTNAME_ASSIGNED');
    expect(await core.fleet.pools.release('kxp2-coro-001')).toEqual({
      hostname: 'KXP2-CORO-001',
      releasedFrom: 'aaaa0001',
    });
    expect(await core.fleet.pools.stats({ venue: 'CORO' })).toEqual([
      { venue: 'CORO', product: 'KXP2', available: 3, assigned: 0, retired: 0, total: 3 },
    ]);
    const again = await core.fleet.enrollment.enroll({ serial: 'aaaa0002', venue: 'CORO', product: 'KXP2' });
    expect(again.hostname).toBe('KXP2-CORO-001');
    await core.fleet.pools.retire('KXP2-CORO-002');
    await core.fleet.pools.retire('KXP2-CORO-001', { force: true });
    expect(await core.fleet.pools.stats({ venue: 'CORO' })).toEqual([
      { venue: 'CORO', product: 'KXP2', available: 1, assigned: 0, retired: 2, total: 3 },
    ]);
    const third = await core.fleet.enrollment.enroll({ serial: 'aaaa0003', venue: 'CORO', product: 'KXP2' });
    expect(third.hostname).toBe('KXP2-CORO-003');
    const released = (await core.fleet.records.history({ serial: 'aaaa0001' })).filter(
      (h) => h.type === 'hostname.released',
    );
    expect(released.map((h) => h.data['reason'])).toEqual(['released by operator']);
    expect(await codeOf(core.fleet.pools.release('KXP2-NOPE-001'))).toBe('FLEET_HOSTNAME_UNKNOWN');
  });
});

describe('assignment', () => {
  it('hands out the lowest free number, is idempotent per serial and says when the pool is empty', async () => {
    await venueWithPool('CORO', '5,2,9');
    const a = await core.fleet.enrollment.enroll({
      serial: 'AAAA0001',
      venue: 'CORO',
      product: 'KXP2',
      macs: ['2C:CF:67:00:00:01'],
      model: 'Raspberry Pi 5',
    });
    expect([a.hostname, a.reused, a.deployment.status, a.device.macs]).toEqual([
      'KXP2-CORO-002',
      false,
      'enrolled',
      ['2c:cf:67:00:00:01'],
    ]);
    const again = await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    expect([again.hostname, again.reused]).toEqual(['KXP2-CORO-002', true]);
    expect((await core.fleet.enrollment.enroll({ serial: 'aaaa0002', venue: 'CORO', product: 'KXP2' })).hostname).toBe(
      'KXP2-CORO-005',
    );
    expect((await core.fleet.enrollment.enroll({ serial: 'aaaa0003', venue: 'CORO', product: 'KXP2' })).hostname).toBe(
      'KXP2-CORO-009',
    );
    expect(await codeOf(core.fleet.enrollment.enroll({ serial: 'aaaa0004', venue: 'CORO', product: 'KXP2' }))).toBe(
      'FLEET_POOL_EXHAUSTED',
    );
    expect(events.find((e) => e.type === 'enroll.refused')?.data).toMatchObject({
      serial: 'aaaa0004',
      code: 'FLEET_POOL_EXHAUSTED',
    });
    expect(events.some((e) => e.type === 'pool.warning')).toBe(true);
    // The refused board left nothing half-written behind.
    expect(
      await core.store.db.selectFrom('devices').select('serial').where('serial', '=', 'aaaa0004').execute(),
    ).toEqual([]);
  });

  it('ends an attempt still open when the board enrolls again', async () => {
    await venueWithPool();
    const first = await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    await core.fleet.enrollment.advance(first.deployment.id, 'writing');
    const second = await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    const old = (await core.fleet.records.deployment(first.deployment.id)).deployment;
    expect([old.status, old.error]).toEqual(['failed', 'superseded: the board enrolled again']);
    expect(second.deployment.status).toBe('enrolled');
  });

  it('names RXP2 boards from the last 8 serial digits and refuses a collision', async () => {
    await core.fleet.venues.create({ code: 'CORO', name: 'x' });
    const a = await core.fleet.enrollment.enroll({ serial: '9d00ce41d137e638', venue: 'CORO', product: 'RXP2' });
    expect(a.hostname).toBe('RXP2-CORO-D137E638');
    expect(
      await codeOf(core.fleet.enrollment.enroll({ serial: '1111ce41d137e638', venue: 'CORO', product: 'RXP2' })),
    ).toBe('FLEET_HOSTNAME_TAKEN');
  });

  it('gives a board moved to another venue a new name and frees the old one', async () => {
    await venueWithPool('CORO', '1');
    await venueWithPool('ARIA', '1');
    await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    const moved = await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'ARIA', product: 'KXP2' });
    expect(moved.hostname).toBe('KXP2-ARIA-001');
    expect((await core.fleet.pools.list({ venue: 'CORO' }))[0]).toMatchObject({ status: 'available', serial: null });
    expect((await core.fleet.enrollment.enroll({ serial: 'aaaa0002', venue: 'CORO', product: 'KXP2' })).hostname).toBe(
      'KXP2-CORO-001',
    );
  });

  it('lets the top active batch decide the venue and product when the board does not say', async () => {
    await venueWithPool('CORO', '1-10');
    await core.fleet.venues.create({ code: 'ARIA', name: 'x' });
    expect(await codeOf(core.fleet.enrollment.enroll({ serial: 'aaaa0001' }))).toBe('FLEET_NO_ACTIVE_BATCH');
    const low = await core.fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: 5, priority: 1 });
    const high = await core.fleet.batches.create({ venue: 'ARIA', product: 'RXP2', expectedCount: 2, priority: 5 });
    await core.fleet.batches.apply(low.id, 'activate');
    await core.fleet.batches.apply(high.id, 'activate');
    const first = await core.fleet.enrollment.enroll({ serial: 'aaaa0001' });
    expect([first.hostname, first.deployment.batchId]).toEqual(['RXP2-ARIA-AAAA0001', high.id]);
    await core.fleet.enrollment.enroll({ serial: 'aaaa0002' });
    expect((await core.fleet.batches.get(high.id)).status).toBe('completed');
    const third = await core.fleet.enrollment.enroll({ serial: 'aaaa0003' });
    expect([third.hostname, third.deployment.batchId]).toEqual(['KXP2-CORO-001', low.id]);
    // A known board keeps its name even though another batch is now on top.
    expect((await core.fleet.enrollment.enroll({ serial: 'aaaa0001' })).hostname).toBe('RXP2-ARIA-AAAA0001');
  });
});

describe('batches', () => {
  it('picks the highest priority, then the oldest, and completes itself when full', async () => {
    await venueWithPool('CORO', '1-10');
    const older = await core.fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: 2, name: 'first' });
    const newer = await core.fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: 2 });
    const urgent = await core.fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: 1, priority: 10 });
    expect(older.status).toBe('pending');
    for (const b of [newer, older, urgent]) await core.fleet.batches.apply(b.id, 'activate');
    const batchOf = async (serial: string) =>
      (await core.fleet.enrollment.enroll({ serial, venue: 'CORO', product: 'KXP2' })).deployment.batchId;
    expect([
      await batchOf('aaaa0001'),
      await batchOf('aaaa0002'),
      await batchOf('aaaa0003'),
      await batchOf('aaaa0004'),
    ]).toEqual([urgent.id, older.id, older.id, newer.id]);
    expect((await core.fleet.batches.list({ status: 'completed' })).map((b) => b.id).sort()).toEqual(
      [older.id, urgent.id].sort(),
    );
    expect(await codeOf(core.fleet.batches.apply(older.id, 'activate'))).toBe('FLEET_BATCH_TRANSITION');
  });

  it('counts progress per board from its latest deployment', async () => {
    await venueWithPool('CORO', '1-10');
    const b = await core.fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: 5 });
    await core.fleet.batches.apply(b.id, 'activate');
    const d1 = await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    await core.fleet.enrollment.advance(d1.deployment.id, 'failed', { error: 'card wrote back wrong bytes' });
    const d1b = await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    await core.fleet.enrollment.advance(d1b.deployment.id, 'success');
    const d2 = await core.fleet.enrollment.enroll({ serial: 'aaaa0002', venue: 'CORO', product: 'KXP2' });
    await core.fleet.enrollment.advance(d2.deployment.id, 'failed', { error: 'no card' });
    expect(await core.fleet.batches.get(b.id)).toMatchObject({
      assigned: 2,
      succeeded: 1,
      failed: 1,
      status: 'active',
    });
  });

  it('pauses, resumes and cancels; a paused batch names nobody', async () => {
    await venueWithPool('CORO', '1-10');
    const b = await core.fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: 5 });
    await core.fleet.batches.apply(b.id, 'activate');
    await core.fleet.batches.apply(b.id, 'pause');
    expect(await codeOf(core.fleet.enrollment.enroll({ serial: 'aaaa0001' }))).toBe('FLEET_NO_ACTIVE_BATCH');
    await core.fleet.batches.apply(b.id, 'activate');
    expect((await core.fleet.batches.apply(b.id, 'cancel')).status).toBe('cancelled');
    expect(await codeOf(core.fleet.batches.apply(b.id, 'pause'))).toBe('FLEET_BATCH_TRANSITION');
    expect(await codeOf(core.fleet.batches.get(999))).toBe('FLEET_BATCH_UNKNOWN');
    expect(await codeOf(core.fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: 0 }))).toBe(
      'FLEET_INPUT_INVALID',
    );
    expect(await codeOf(core.fleet.batches.create({ venue: 'NOPE', product: 'KXP2', expectedCount: 1 }))).toBe(
      'FLEET_VENUE_UNKNOWN',
    );
  });
});

describe('deployments', () => {
  it('walks the state machine, stamps each phase, ignores late reports and keeps the history', async () => {
    await venueWithPool();
    const { deployment } = await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    for (const phase of ['downloading', 'writing', 'verifying', 'customizing'] as const) {
      expect((await core.fleet.enrollment.advance(deployment.id, phase)).changed).toBe(true);
    }
    expect((await core.fleet.enrollment.advance(deployment.id, 'writing')).changed).toBe(false);
    const done = await core.fleet.enrollment.advance(deployment.id, 'success');
    expect(done.deployment).toMatchObject({ status: 'success', error: null });
    for (const key of ['downloadingAt', 'writingAt', 'verifyingAt', 'customizingAt', 'finishedAt'] as const)
      expect(done.deployment[key]).not.toBeNull();
    expect(await codeOf(core.fleet.enrollment.advance(deployment.id, 'failed'))).toBe('FLEET_DEPLOYMENT_FINISHED');
    expect(await codeOf(core.fleet.enrollment.advance(4242, 'failed'))).toBe('FLEET_DEPLOYMENT_UNKNOWN');
    const { history } = await core.fleet.records.deployment(deployment.id);
    expect(history.map((h) => h.data['phase'])).toEqual([
      'enrolled',
      'downloading',
      'writing',
      'verifying',
      'customizing',
      'success',
    ]);
    const published = events.filter((e) => e.type === 'deployment.phase').map((e) => e.seq);
    expect(published.every((s) => typeof s === 'number')).toBe(true);
  });

  it('filters by venue, product, status, serial and date', async () => {
    await venueWithPool('CORO', '1-5');
    await core.fleet.venues.create({ code: 'ARIA', name: 'x' });
    const a = await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    await core.fleet.enrollment.enroll({ serial: 'aaaa0002', venue: 'ARIA', product: 'RXP2' });
    await core.fleet.enrollment.advance(a.deployment.id, 'success');
    const ids = async (f: object) => (await core.fleet.records.deployments(f)).map((d) => d.serial);
    expect(await ids({ venue: 'coro' })).toEqual(['aaaa0001']);
    expect(await ids({ product: 'RXP2' })).toEqual(['aaaa0002']);
    expect(await ids({ status: 'success' })).toEqual(['aaaa0001']);
    expect(await ids({ serial: 'AAAA0002' })).toEqual(['aaaa0002']);
    expect(await ids({ since: '2000-01-01', until: '2999-01-01' })).toHaveLength(2);
    expect(await ids({ until: '2000-01-01' })).toEqual([]);
    expect(await codeOf(core.fleet.records.deployments({ since: 'yesterday' }))).toBe('FLEET_INPUT_INVALID');
    expect((await core.fleet.records.device('aaaa0001')).deployments).toHaveLength(1);
    expect((await core.fleet.records.devices()).map((d) => d.hostname).sort()).toEqual([
      'KXP2-CORO-001',
      'RXP2-ARIA-AAAA0002',
    ]);
  });
});

describe('network boot after success', () => {
  it('is refused to a board imaged successfully until an operator asks for a re-image', async () => {
    await venueWithPool();
    expect(await core.fleet.records.netbootAllowed('aaaa0001')).toMatchObject({ allowed: true, reason: 'new board' });
    const first = await core.fleet.enrollment.enroll({ serial: '10000000aaaa0001', venue: 'CORO', product: 'KXP2' });
    expect((await core.fleet.records.netbootAllowed('AAAA0001')).allowed).toBe(true);
    await core.fleet.enrollment.advance(first.deployment.id, 'success');
    const refused = await core.fleet.records.netbootAllowed('aaaa0001');
    expect(refused.allowed).toBe(false);
    expect(refused.reason).toContain('KXP2-CORO-001');
    expect((await core.fleet.enrollment.requestReimage('10000000AAAA0001')).reimageRequestedAt).not.toBeNull();
    expect(await core.fleet.records.netbootAllowed('aaaa0001')).toMatchObject({
      allowed: true,
      reason: 're-image requested',
    });
    // Enrolling again uses the request up; success closes network boot again.
    const second = await core.fleet.enrollment.enroll({ serial: '10000000aaaa0001', venue: 'CORO', product: 'KXP2' });
    expect(second.device.reimageRequestedAt).toBeNull();
    await core.fleet.enrollment.advance(second.deployment.id, 'success');
    expect((await core.fleet.records.netbootAllowed('aaaa0001')).allowed).toBe(false);
    expect(events.some((e) => e.type === 'device.reimage' && e.seq !== null)).toBe(true);
    expect(await codeOf(core.fleet.enrollment.requestReimage('bbbb0001'))).toBe('FLEET_DEVICE_UNKNOWN');
  });

  it('is offered again after a failed attempt', async () => {
    await venueWithPool();
    const d = await core.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    await core.fleet.enrollment.advance(d.deployment.id, 'failed', { error: 'card removed' });
    expect(await core.fleet.records.netbootAllowed('aaaa0001')).toMatchObject({
      allowed: true,
      reason: 'last deployment failed',
    });
  });
});
