import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * A seed installation's deployment.db, with the tables its database_setup.py (Phase 6) and batch
 * management (Phase 7) create, filled as a venue in use would have it.
 */
function buildSeedDb(file: string): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE hostname_pool (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      product_type TEXT NOT NULL CHECK(product_type IN ('KXP2', 'RXP2')),
      venue_code TEXT NOT NULL CHECK(length(venue_code) = 4),
      identifier TEXT NOT NULL,
      status TEXT NOT NULL CHECK(status IN ('available', 'assigned', 'retired')),
      mac_address TEXT, serial_number TEXT, assigned_date TIMESTAMP, notes TEXT,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      UNIQUE(product_type, venue_code, identifier));
    CREATE TABLE venues (
      id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT UNIQUE NOT NULL CHECK(length(code) = 4), name TEXT NOT NULL,
      location TEXT, contact_email TEXT, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
    CREATE TABLE deployment_history (
      id INTEGER PRIMARY KEY AUTOINCREMENT, hostname TEXT NOT NULL, mac_address TEXT, serial_number TEXT, ip_address TEXT,
      product_type TEXT, venue_code TEXT, image_version TEXT, deployment_status TEXT, started_at TIMESTAMP,
      completed_at TIMESTAMP, error_message TEXT);
    CREATE TABLE master_images (
      id INTEGER PRIMARY KEY AUTOINCREMENT, filename TEXT UNIQUE NOT NULL, product_type TEXT NOT NULL, version TEXT NOT NULL,
      size_bytes INTEGER, checksum TEXT, description TEXT, is_active BOOLEAN DEFAULT 0, uploaded_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
    CREATE TABLE deployment_batches (
      id INTEGER PRIMARY KEY AUTOINCREMENT, venue_code TEXT NOT NULL,
      product_type TEXT NOT NULL CHECK(product_type IN ('KXP2', 'RXP2')), total_count INTEGER NOT NULL,
      remaining_count INTEGER NOT NULL, priority INTEGER DEFAULT 0,
      status TEXT NOT NULL CHECK(status IN ('pending', 'active', 'paused', 'completed', 'cancelled')),
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, started_at TIMESTAMP, completed_at TIMESTAMP,
      FOREIGN KEY (venue_code) REFERENCES venues(code));

    INSERT INTO venues (code, name, location, contact_email, created_at) VALUES
      ('CORO', 'Corona Karting', 'California', 'ops@corona.example', '2025-10-23 07:00:00'),
      ('ARIA', 'Aria Raceway', NULL, NULL, '2025-10-23 07:05:00');
    INSERT INTO hostname_pool (product_type, venue_code, identifier, status, mac_address, serial_number, assigned_date) VALUES
      ('KXP2', 'CORO', '001', 'assigned', '2c:cf:67:00:00:01', '10000000aa000001', '2025-10-23 08:00:00'),
      ('KXP2', 'CORO', '002', 'assigned', '2c:cf:67:00:00:02', 'unknown', '2025-10-23 08:05:00'),
      ('KXP2', 'CORO', '003', 'available', NULL, NULL, NULL),
      ('KXP2', 'CORO', '004', 'retired', NULL, NULL, NULL),
      ('KXP2', 'CORO', '005', 'available', NULL, NULL, NULL),
      ('RXP2', 'ARIA', 'BB000001', 'assigned', '2c:cf:67:00:00:03', 'bb000001', '2025-10-23 09:00:00');
    INSERT INTO deployment_batches (venue_code, product_type, total_count, remaining_count, priority, status, created_at, started_at, completed_at) VALUES
      ('CORO', 'KXP2', 10, 8, 5, 'active', '2025-10-23 07:30:00', '2025-10-23 07:31:00', NULL),
      ('ARIA', 'RXP2', 2, 0, 0, 'completed', '2025-10-23 07:40:00', '2025-10-23 07:41:00', '2025-10-23 10:00:00');
    INSERT INTO deployment_history (hostname, mac_address, serial_number, ip_address, product_type, venue_code, image_version, deployment_status, started_at, completed_at, error_message) VALUES
      ('KXP2-CORO-001', '2c:cf:67:00:00:01', '10000000aa000001', '198.18.151.100', 'KXP2', 'CORO', '1.0', 'success', '2025-10-23 08:00:00', '2025-10-23 08:20:00', NULL),
      ('KXP2-CORO-009', '2c:cf:67:00:00:01', '10000000aa000001', '198.18.151.100', 'KXP2', 'CORO', '1.0', 'failed', '2025-10-22 08:00:00', '2025-10-22 08:03:00', 'Checksum mismatch'),
      ('RXP2-ARIA-BB000001', NULL, 'bb000001', NULL, NULL, NULL, '1.0', 'verifying', '2025-10-23 09:00:00', NULL, NULL),
      ('KXP2-CORO-002', NULL, NULL, NULL, 'KXP2', 'CORO', '1.0', 'success', '2025-10-23 08:05:00', '2025-10-23 08:25:00', NULL);
  `);
  db.close();
}

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

interface Summary {
  applied: boolean;
  venues: { added: number; present: number };
  poolNames: { added: number; present: number; addedByStatus: Record<string, number> };
  boards: { added: number; present: number };
  batches: { added: number; present: number };
  deployments: { added: number; present: number };
  skipped: { what: string; why: string }[];
}

function importSeed(file: string, extra: string[]): Summary {
  const r = runCli(['import-seed', file, '--json', ...extra, '--data-dir', dir.path]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Summary;
}

describe('rpi-deploy import-seed', () => {
  it(
    'shows a dry run, imports venues, pools with their states and boards, batches and history once, and again adds nothing',
    { timeout: 120_000 },
    async () => {
      const seedFile = join(dir.path, 'deployment.db');
      buildSeedDb(seedFile);

      const dry = importSeed(seedFile, []);
      const counts = (s: Summary) =>
        [s.venues, s.poolNames, s.boards, s.batches, s.deployments].map((c) => [c.added, c.present]);
      expect(dry.applied).toBe(false);
      expect(counts(dry)).toEqual([
        [2, 0],
        [5, 0],
        [2, 0],
        [2, 0],
        [3, 0],
      ]);
      expect(dry.poolNames.addedByStatus).toEqual({ available: 2, assigned: 1, retired: 2 });
      expect(dry.skipped.map((k) => k.what)).toEqual(["KXP2-CORO-002's board", 'deployment 4 (KXP2-CORO-002)']);

      const core = async () => openCore(loadConfig({ flags: { dataDir: dir.path } }), createLogger('silent'));
      let c = await core();
      expect(await c.fleet.venues.list()).toEqual([]);
      await c.close();

      const applied = importSeed(seedFile, ['--yes']);
      expect({ ...applied, applied: false }).toEqual(dry);
      expect(applied.applied).toBe(true);

      const again = importSeed(seedFile, ['--yes']);
      expect(counts(again)).toEqual([
        [0, 2],
        [0, 5],
        [0, 2],
        [0, 2],
        [0, 3],
      ]);

      c = await core();
      try {
        expect((await c.fleet.venues.list()).map((v) => [v.code, v.name, v.contact])).toEqual([
          ['ARIA', 'Aria Raceway', null],
          ['CORO', 'Corona Karting', 'ops@corona.example'],
        ]);
        const pool = await c.fleet.pools.list({ venue: 'CORO' });
        expect(pool.map((e) => [e.hostname, e.status, e.serial])).toEqual([
          ['KXP2-CORO-001', 'assigned', '10000000aa000001'],
          ['KXP2-CORO-002', 'retired', null],
          ['KXP2-CORO-003', 'available', null],
          ['KXP2-CORO-004', 'retired', null],
          ['KXP2-CORO-005', 'available', null],
        ]);
        expect((await c.fleet.records.device('10000000aa000001')).device).toMatchObject({
          hostname: 'KXP2-CORO-001',
          macs: ['2c:cf:67:00:00:01'],
        });
        expect((await c.fleet.records.device('bb000001')).device).toMatchObject({ hostname: 'RXP2-ARIA-BB000001' });

        const batches = await c.fleet.batches.list({});
        expect(batches.map((b) => [b.venue, b.product, b.status, b.expectedCount, b.priority]).sort()).toEqual([
          ['ARIA', 'RXP2', 'completed', 2, 0],
          ['CORO', 'KXP2', 'active', 10, 5],
        ]);

        const history = await c.fleet.records.deployments({});
        expect(history.map((d) => [d.hostname, d.status, d.error, d.enrolledAt]).sort()).toEqual([
          ['KXP2-CORO-001', 'success', null, '2025-10-23T08:00:00.000Z'],
          ['KXP2-CORO-009', 'failed', 'Checksum mismatch', '2025-10-22T08:00:00.000Z'],
          [
            'RXP2-ARIA-BB000001',
            'failed',
            'imported from the seed unfinished (last report: verifying)',
            '2025-10-23T09:00:00.000Z',
          ],
        ]);
        // The next board at CORO gets the lowest free number, never a name the seed's boards hold.
        const next = await c.fleet.enrollment.enroll({ serial: '10000000aa0000ff', venue: 'CORO', product: 'KXP2' });
        expect(next.hostname).toBe('KXP2-CORO-003');
        // A board the seed named keeps its name when it enrolls here.
        const known = await c.fleet.enrollment.enroll({ serial: '10000000aa000001', venue: 'CORO', product: 'KXP2' });
        expect(known.hostname).toBe('KXP2-CORO-001');
      } finally {
        await c.close();
      }
    },
  );

  it('refuses a file that is not a seed database, saying what is missing', () => {
    const file = join(dir.path, 'other.db');
    const db = new Database(file);
    db.exec('CREATE TABLE venues (code TEXT)');
    db.close();
    const r = runCli(['import-seed', file, '--data-dir', dir.path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('lacks column(s) name, location, contact_email, created_at');
  });
});
