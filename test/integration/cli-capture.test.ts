import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/app.js';
import type { Capture } from '../../src/protocol/capture.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/** `rpi-deploy image capture`, `image captures`, `image capture-cancel`: each change audited as from the CLI. */
let dir: ReturnType<typeof tempDir>;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => dir.remove());

const cli = (args: string[]) => runCli([...args, '--data-dir', dir.path]);

describe('rpi-deploy image capture', () => {
  it('marks a board with steps kept, lists it, refuses an unknown step, cancels it', { timeout: 120_000 }, () => {
    const made = cli(
      ['image', 'capture', '--serial', 'CAFE0001', '--product', 'KXP2', '--version', '1.1.0'].concat([
        '--keep',
        'logs',
        '--keep',
        'swap',
        '--json',
      ]),
    );
    expect(made.code, made.stderr).toBe(0);
    const capture = JSON.parse(made.stdout) as Capture;
    expect(capture).toMatchObject({ serial: 'cafe0001', status: 'pending', keep: ['logs', 'swap'] });

    const bad = cli([
      'image',
      'capture',
      '--serial',
      'cafe0002',
      '--product',
      'KXP2',
      '--version',
      '1',
      '--keep',
      'all',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/keep/);

    const listed = cli(['image', 'captures']);
    expect(listed.stdout).toMatch(/cafe0001\s+KXP2\s+1\.1\.0\s+pending/);
    const cancelled = cli(['image', 'capture-cancel', String(capture.id)]);
    expect(cancelled.stdout).toBe(`Capture ${capture.id} (board cafe0001) cancelled\n`);

    const db = new Database(join(dir.path, DATABASE_FILE), { readonly: true });
    try {
      const rows = db.prepare("SELECT action, target FROM audit WHERE action LIKE 'image.capture%' ORDER BY id").all();
      expect(rows).toEqual([
        { action: 'image.capture', target: String(capture.id) },
        { action: 'image.capture-cancel', target: String(capture.id) },
      ]);
    } finally {
      db.close();
    }
  });
});
