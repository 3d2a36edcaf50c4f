import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loopbackListen, runCli, spawnServe } from '../helpers/cli.js';
import { rawDisk } from '../helpers/pi-image.js';
import { tempDir } from '../helpers/temp-dir.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

const cli = (args: string[], input?: string) =>
  runCli([...args, '--data-dir', dir.path], input === undefined ? {} : { input });
const json = (args: string[]) => {
  const r = cli([...args, '--json']);
  expect(r.stderr).not.toContain('error');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as unknown;
};

describe('rpi-deploy CLI', () => {
  it('adds users with the password from standard input, never from the command line', () => {
    expect(cli(['user', 'add', 'Ana', '--admin'], 'a long secret phrase\n')).toMatchObject({
      code: 0,
      stdout: 'User ana added as admin\n',
    });
    expect(cli(['user', 'add', 'bob', '--role', 'viewer'], 'short\n')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('password'),
    });
    expect(cli(['user', 'add', 'ana'], 'another long secret\n')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('already exists'),
    });
    expect(cli(['user', 'add', 'carl', '--role', 'boss'], 'x\n').code).toBe(2);
    expect(json(['user', 'list'])).toMatchObject([{ username: 'ana', role: 'admin' }]);
    expect(cli(['user', 'remove', 'ana'])).toMatchObject({ code: 1, stderr: expect.stringContaining('last admin') });
  });

  it('manages venues with tables by default and JSON on request', () => {
    expect(cli(['venue', 'add', 'coro', '--name', 'Corona Karting', '--location', 'California'])).toMatchObject({
      code: 0,
      stdout: 'Created venue CORO (Corona Karting)\n',
    });
    expect(cli(['venue', 'list']).stdout).toBe(
      'CODE  NAME            LOCATION    CONTACT\nCORO  Corona Karting  California  \n',
    );
    expect(json(['venue', 'list'])).toMatchObject([{ code: 'CORO', name: 'Corona Karting' }]);
    expect(cli(['venue', 'edit', 'CORO', '--contact', 'ops desk']).code).toBe(0);
    expect(json(['venue', 'show', 'coro'])).toMatchObject({ contact: 'ops desk', stats: { activeAssignments: 0 } });
  });

  it.each([
    [['venue', 'add', 'COR', '--name', 'x'], 1, 'error: Venue code "COR" is invalid'],
    [['venue', 'show', 'NOPE'], 1, 'error: Venue NOPE does not exist'],
    [['batch', 'show', '7'], 1, 'error: Batch 7 does not exist'],
    [['batch', 'create', '--venue', 'CORO', '--product', 'KXP2', '--count', 'many'], 2, 'expected a whole number'],
    [['venue', 'add', 'CORO'], 2, "required option '--name <name>' not specified"],
    [['venue', 'frobnicate'], 2, "unknown command 'frobnicate'"],
    [['deployments', '--status', 'exploded'], 2, 'expected one of enrolled'],
    [['pool', 'import', 'CORO'], 2, 'give --range, --numbers or --file'],
  ])('%j exits %i with a clear message', (args, code, message) => {
    const r = cli(args);
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
  });

  it("sets a product's delta re-image and verify mode", () => {
    expect(cli(['product', 'set', 'KXP2', '--delta', 'off', '--verify', 'sample'])).toMatchObject({
      code: 0,
      stdout: 'Product KXP2: delta re-image off, verify sample\n',
    });
    const listed = json(['product', 'list']) as { code: string; imaging: unknown }[];
    expect(listed.find((p) => p.code === 'KXP2')?.imaging).toEqual({ delta: false, verify: 'sample' });
    expect(cli(['product', 'set', 'KXP2', '--verify', 'most'])).toMatchObject({ code: 2 });
    expect(cli(['product', 'set', 'KXP2'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('nothing to change'),
    });
  });

  it('simulate --help names each default once', () => {
    const r = runCli(['simulate', '--help']);
    expect(r.code).toBe(0);
    // Commander wraps long descriptions, so read the option's whole entry up to the next option.
    const cardGib = /--card-gib[\s\S]*?(?=\n\s+--)/.exec(r.stdout)?.[0].replace(/\s+/g, ' ');
    expect(cardGib).toBe('--card-gib <n> size of each simulated card in GiB, sparse (default: 16)');
  });

  it('reports an invalid configuration with the key and exit code 2', () => {
    const file = join(dir.path, 'bad.yaml');
    writeFileSync(file, 'device:\n  listen: nowhere\n');
    const r = cli(['venue', 'list', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"device.listen" is not in the expected form');
    const env = runCli(['venue', 'list', '--data-dir', dir.path], { env: { RPI_DEPLOY_LOG_LEVEL: 'loud' } });
    expect([env.code, env.stderr.includes('"log.level"')]).toEqual([2, true]);
  });

  it('imports a pool from a CSV file and from standard input, reporting bad lines', () => {
    cli(['venue', 'add', 'CORO', '--name', 'x']);
    const csv = join(dir.path, 'karts.csv');
    writeFileSync(csv, 'kart_number,driver\n1,A\n2,B\nx,C\n2,D\n');
    const r = cli(['pool', 'import', 'CORO', '--file', csv]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: 1 invalid entry was not added (see above); correct and import it again\n');
    expect(r.stdout).toBe(
      'CORO/KXP2: added 2, duplicates 1, invalid 1\n  line 4: "x" is not a number or a range (e.g. 7 or 1-60)\n  line 5: already in the pool: 2\n',
    );
    expect(cli(['pool', 'import', 'CORO', '--file', '-'], '3\n4-5\n').stdout).toBe(
      'CORO/KXP2: added 3, duplicates 0, invalid 0\n',
    );
    expect(json(['pool', 'stats'])).toEqual([
      { venue: 'CORO', product: 'KXP2', available: 5, assigned: 0, retired: 0, total: 5 },
    ]);
    expect(cli(['pool', 'import', 'CORO', '--product', 'RXP2', '--range', '1-2']).stderr).toContain(
      'needs no hostname pool',
    );
  });

  it('creates and activates batches and registers images with a --version of their own', () => {
    cli(['venue', 'add', 'CORO', '--name', 'x']);
    expect(
      json([
        'batch',
        'create',
        '--venue',
        'coro',
        '--product',
        'KXP2',
        '--count',
        '20',
        '--priority',
        '3',
        '--activate',
      ]),
    ).toMatchObject({
      status: 'active',
      expectedCount: 20,
      priority: 3,
    });
    const file = join(dir.path, 'kxp2.img');
    writeFileSync(file, rawDisk('cli', 1024));
    expect(json(['image', 'add', file, '--product', 'KXP2', '--version', '2026.11.1', '--activate'])).toMatchObject({
      version: '2026.11.1',
      active: true,
      sizeBytes: 1024,
    });
    const dup = cli(['image', 'add', file, '--product', 'KXP2', '--version', '2026.11.2']);
    expect([dup.code, dup.stderr]).toEqual([
      1,
      'reading 100% (1.02 kB of 1.02 kB)\nanalysing\nstoring\nerror: These bytes are already stored as KXP2 2026.11.1 (image 1); nothing was added\n',
    ]);
    // Issue 12 item 9: eight bytes of text named like an xz file were imported with exit 0.
    const junk = join(dir.path, 'junk.img.xz');
    writeFileSync(junk, 'hello!!\n');
    const refused = cli(['image', 'add', junk, '--product', 'KXP2', '--version', '2026.11.3']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /error: junk\.img\.xz is named like an xz file but does not start like one; .* no partition table/,
    );
    const [image] = json(['image', 'list']) as { sizeBytes: number; usedBytes: number; sha256: string }[];
    // A spreadsheet gets raw values: bytes as whole numbers and the whole sha256, not "1.0 KiB" and 16 hex digits.
    const [header, row] = cli(['image', 'list', '--csv'])
      .stdout.split('\r\n')
      .map((l) => l.split(','));
    const cell = (title: string) => row![header!.indexOf(title)];
    expect([cell('size'), cell('used'), cell('sha256')]).toEqual([
      String(image!.sizeBytes),
      String(image!.usedBytes),
      image!.sha256,
    ]);
    expect(image!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('exports deployments as CSV and JSON with filters', async () => {
    const seeded = await openTestCoreAt(dir.path);
    await seeded.fleet.venues.create({ code: 'CORO', name: 'x' });
    await seeded.fleet.pools.import({ venue: 'CORO', text: '1-2' });
    const a = await seeded.fleet.enrollment.enroll({ serial: 'aaaa0001', venue: 'CORO', product: 'KXP2' });
    await seeded.fleet.enrollment.advance(a.deployment.id, 'failed', { error: 'card, "gone"' });
    await seeded.fleet.enrollment.enroll({ serial: 'aaaa0002', venue: 'CORO', product: 'RXP2' });
    await seeded.close();

    const csv = cli(['deployments', '--csv']).stdout.split('\r\n');
    expect(csv[0]).toBe('id,hostname,serial,venue,product,batch,status,enrolled,finished,ip,error');
    expect(csv[1]).toMatch(/^2,RXP2-CORO-AAAA0002,aaaa0002,CORO,RXP2,,enrolled,/);
    expect(csv[2]).toMatch(/^1,KXP2-CORO-001,aaaa0001,CORO,KXP2,,failed,.*,"card, ""gone"""$/);
    expect(json(['deployments', 'list', '--status', 'failed'])).toMatchObject([{ serial: 'aaaa0001' }]);
    expect(json(['deployments', 'show', '1'])).toMatchObject({
      deployment: { id: 1 },
      history: [{ data: { phase: 'enrolled' } }, { data: { phase: 'failed' } }],
    });
    expect(json(['device', 'show', 'AAAA0001'])).toMatchObject({
      device: { serial: 'aaaa0001', hostname: 'KXP2-CORO-001' },
    });
  });

  it('serves on the given addresses and stops cleanly on SIGTERM', async () => {
    const { device, management, child } = await spawnServe([...loopbackListen(dir.path)]);
    expect((await fetch(`${device}/health`)).status).toBe(200);
    expect((await fetch(`${management}/health`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('says which address is taken when it cannot listen', async () => {
    const first = await spawnServe([...loopbackListen(dir.path)]);
    const port = new URL(first.device).port;
    const r = cli(['serve', '--device-listen', `127.0.0.1:${port}`, '--management-listen', '127.0.0.1:0']);
    first.child.kill('SIGTERM');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Cannot listen for the device API on 127.0.0.1:${port}: the address is already in use`);
  });
});

async function openTestCoreAt(dataDir: string) {
  const { openCore } = await import('../../src/app.js');
  const { loadConfig } = await import('../../src/config/index.js');
  const { createLogger } = await import('../../src/lib/logger.js');
  return openCore(loadConfig({ flags: { dataDir } }), createLogger('silent'));
}
