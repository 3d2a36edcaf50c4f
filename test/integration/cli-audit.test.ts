import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/app.js';
import { runCli } from '../helpers/cli.js';
import { rawDisk } from '../helpers/pi-image.js';
import { tempDir } from '../helpers/temp-dir.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

function cli(args: string[], input?: string): void {
  const r = runCli([...args, '--data-dir', dir.path], input === undefined ? {} : { input });
  expect(r.stderr.includes('error'), `${args.join(' ')}: ${r.stderr}`).toBe(false);
  expect(r.code, args.join(' ')).toBe(0);
}

interface AuditRow {
  actor: string;
  action: string;
  target: string | null;
  details: string;
  ip: string | null;
}

function auditRows(): AuditRow[] {
  const db = new Database(join(dir.path, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare('SELECT actor, action, target, details, ip FROM audit ORDER BY id').all() as AuditRow[];
  } finally {
    db.close();
  }
}

describe('rpi-deploy CLI audit', () => {
  // One process per command, as an operator runs them: allow for a loaded machine.
  it(
    'records every change made from the CLI as cli:<os user>, with its target, and never a secret',
    { timeout: 180_000 },
    () => {
      const image = join(dir.path, 'kxp2.img');
      writeFileSync(image, rawDisk('cli-audit', 4096));
      const settings = join(dir.path, 'firstboot.yaml');
      writeFileSync(
        settings,
        "wifi: { ssid: Track, passphrase: 'very secret passphrase', country: US }\ntimezone: Europe/Madrid\n",
      );

      cli(['venue', 'add', 'coro', '--name', 'Corona Karting']);
      cli(['venue', 'edit', 'CORO', '--contact', 'ops desk']);
      cli(['pool', 'import', 'CORO', '--file', '-'], '1-3\n');
      cli(['pool', 'retire', 'KXP2-CORO-003']);
      cli(['batch', 'create', '--venue', 'CORO', '--product', 'KXP2', '--count', '2']);
      cli(['batch', 'activate', '1']);
      cli(['image', 'add', image, '--product', 'KXP2', '--version', '2026.11.1']);
      cli(['image', 'activate', '1']);
      cli(['user', 'add', 'Ana', '--admin'], 'a long secret phrase\n');
      cli(['user', 'passwd', 'ana'], 'another long secret phrase\n');
      cli(['firstboot', 'set', '--venue', 'coro', '--file', settings]);
      cli(['firstboot', 'clear', '--venue', 'CORO']);
      // Reads change nothing and leave no row.
      cli(['venue', 'list']);

      const rows = auditRows();
      expect(rows.map((r) => [r.action, r.target])).toEqual([
        ['venue.create', 'CORO'],
        ['venue.update', 'CORO'],
        ['pool.import', 'CORO'],
        ['pool.retire', 'KXP2-CORO-003'],
        ['batch.create', '1'],
        ['batch.activate', '1'],
        ['image.add', '1'],
        ['image.activate', '1'],
        ['user.create', 'ana'],
        ['user.update', 'ana'],
        ['firstboot.set', 'venue/CORO'],
        ['firstboot.clear', 'venue/CORO'],
      ]);
      expect(new Set(rows.map((r) => r.actor))).toEqual(new Set([`cli:${userInfo().username}`]));
      expect(rows.every((r) => r.ip === null)).toBe(true);
      const details = (action: string) =>
        JSON.parse(rows.find((r) => r.action === action)!.details) as Record<string, unknown>;
      expect(details('venue.update')).toEqual({ args: ['CORO'], options: { contact: 'ops desk' } });
      expect(details('pool.import')).toMatchObject({ venue: 'CORO', text: '1-3\n' });
      expect(details('firstboot.set')).toEqual({ scope: 'venue', code: 'CORO', keys: ['wifi', 'timezone'] });
      const all = rows.map((r) => r.details).join('\n');
      expect(all).not.toMatch(/secret|passphrase/);
    },
  );

  it('records nothing for a change that failed', () => {
    const r = runCli(['venue', 'add', 'COR', '--name', 'x', '--data-dir', dir.path]);
    expect(r.code).toBe(1);
    cli(['venue', 'list']);
    expect(auditRows()).toEqual([]);
  });
});
