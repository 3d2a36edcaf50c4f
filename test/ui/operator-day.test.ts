import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { simulatedIdentity } from '../../src/simulate/index.js';
import { cardFile, runAgentProcess } from '../helpers/agent.js';
import { CLI } from '../helpers/cli.js';
import { buildPiImage, compressImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { seriousViolations } from './axe.js';
import { launchBrowser, LAPTOP, PHONE, type Browser } from './browser.js';

/**
 * A venue technician's deployment day, in Debian's Chromium against the real server on loopback:
 * first-admin setup, a venue, its pool from a CSV file (with the preview), a batch, an image
 * upload, real agents (the bundled on-board agent writing to card files) whose progress the
 * dashboard follows to success without reloading, the CSV export, and a viewer who sees no edit
 * buttons. Screenshots of every main page at laptop and phone size go to test-artifacts/ui/;
 * axe-core checks each page.
 */

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/ui/', import.meta.url));
const ADMIN = { username: 'tech', password: 'correct horse battery' };
const VIEWER = { username: 'watcher', password: 'viewer password 1' };
/** `rpi-deploy simulate --run 1` gives its boards these serials; the fourth board runs the agent itself. */
const SIMULATED = [0, 1, 2].map((i) => simulatedIdentity(1, i).serial);
const SMALL_CARD_SERIAL = '10000000aabb0004';
const SERIALS = [...SIMULATED, SMALL_CARD_SERIAL];

let server: TestServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
  page = await browser.page(LAPTOP);
  page.on('pageerror', (err) => {
    throw err;
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });

async function navTo(label: string, title: string | RegExp = label) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: label, exact: true }).click();
  await heading(title).waitFor();
}

/** The page has drawn its data: a heading and no "Loading…" left (the live stream never idles the network). */
async function settled(p: Page) {
  await p.locator('main h1').first().waitFor();
  await p.waitForFunction(() => document.querySelectorAll('.loading').length === 0);
}

const boardRow = (serial: string) => page.locator(`li.board[data-serial="${serial}"]`);

describe('operator UI in Chromium', () => {
  it('first start: the setup page creates the first admin with the setup token', async () => {
    expect(server.setupToken).toBeTruthy();
    await page.goto(server.management);
    await heading('First-time setup').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'setup-laptop.png') });
    await page.getByLabel('Setup token').fill('wrong-token');
    await page.getByLabel('Administrator username').fill(ADMIN.username);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Password again').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await expect
      .poll(() => page.getByRole('alert').or(page.locator('.field-error')).first().textContent())
      .toBeTruthy();
    await page.getByLabel('Setup token').fill(server.setupToken!);
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await heading('Dashboard').waitFor();
    await expect.poll(() => page.getByText('No boards yet').count()).toBe(1);
  });

  it('creates a venue; a bad code is reported next to the code field', async () => {
    await navTo('Venues');
    await page.getByText('No venues yet').waitFor();
    await page.getByRole('button', { name: 'New venue' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New venue' });
    await dialog.getByRole('button', { name: 'Create venue' }).click();
    await expect.poll(() => dialog.locator('.field-invalid').count()).toBe(2); // code and name required, before any request
    await dialog.getByLabel('Code').fill('CORONA');
    await dialog.getByLabel('Name').fill('Corona Karting');
    await dialog.getByRole('button', { name: 'Create venue' }).click();
    const codeError = dialog.locator('.field-invalid', { has: page.getByLabel('Code') }).locator('.field-error');
    await expect.poll(() => codeError.textContent()).toMatch(/4/); // the server's FLEET_VENUE_CODE_INVALID, next to the field
    await dialog.getByLabel('Code').fill('coro');
    await dialog.getByLabel('Location (optional)').fill('California');
    await dialog.getByRole('button', { name: 'Create venue' }).click();
    await heading('CORO · Corona Karting').waitFor();
    await page.getByText('Venue CORO created').waitFor();
  });

  it('imports kart numbers 1–20 from a CSV file, previewing duplicates and invalid lines first', async () => {
    const csv = [
      'kart_number,driver',
      ...Array.from({ length: 20 }, (_, i) => `${i + 1},driver ${i + 1}`),
      '5,again',
      'x7,typo',
    ].join('\n');
    const form = page.locator('form.pool-import');
    if (!(await form.isVisible())) await page.getByText('Import kart numbers for KXP2').click();
    await form.getByRole('radio', { name: 'CSV file' }).check();
    await form
      .locator('input[type="file"]')
      .setInputFiles({ name: 'karts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await form.getByText('Loaded karts.csv').waitFor();
    await form.getByRole('button', { name: 'Preview' }).click();
    const preview = form.getByRole('region', { name: 'Import preview' });
    await preview.waitFor();
    expect(await preview.locator('.preview-summary').textContent()).toMatch(
      /Would import 20 new numbers for KXP2 at CORO.*1 duplicate skipped.*1 invalid entry/,
    );
    expect(await preview.locator('tr.preview-duplicate td[data-label="Input"]').allTextContents()).toEqual(['5,again']);
    expect(await preview.locator('tr.preview-invalid td[data-label="Input"]').allTextContents()).toEqual(['x7,typo']);
    // Nothing is written by the preview.
    expect(await server.app.fleet.pools.list({ venue: 'CORO' })).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'pool-preview-laptop.png'), fullPage: true });
    await form.getByRole('button', { name: 'Import 20 numbers' }).click();
    await page.getByText('Imported 20 numbers into CORO KXP2').waitFor();
    await expect.poll(async () => (await server.app.fleet.pools.list({ venue: 'CORO' })).length).toBe(20);
    await page
      .getByRole('table', { name: 'KXP2 hostname pool' })
      .getByRole('cell', { name: 'KXP2-CORO-001 – 020', exact: true })
      .waitFor();
  });

  it('creates and activates a batch of 4 boards', async () => {
    await navTo('Batches');
    await page.getByRole('button', { name: 'New batch' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New batch' });
    await dialog.getByLabel('Number of boards').fill('4');
    await dialog.getByLabel('Name (optional)').fill('Saturday');
    await dialog.getByRole('button', { name: 'Create batch' }).click();
    await page.getByText(/Batch 1 created and active/).waitFor();
    await page.getByRole('button', { name: 'Pause batch 1' }).waitFor();
    expect((await server.app.fleet.batches.get(1)).status).toBe('active');
  });

  it('uploads a small Pi image with a progress bar, shows its checksum, activates it, and deletes another with confirmation', async () => {
    const image = buildPiImage(join(server.dataDir, 'build'));
    const zst = compressImage(image.path, 'zst');
    await navTo('Images');
    await page.getByText('No images yet').waitFor();
    const upload = async (file: string, version: string, activate: boolean) => {
      await page.getByRole('button', { name: 'Upload image' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Upload image' });
      await dialog.locator('input[type="file"]').setInputFiles(file);
      await dialog.getByLabel('Version').fill(version);
      if (activate) await dialog.getByLabel(/Activate once stored/).check();
      await dialog.getByRole('button', { name: 'Upload', exact: true }).click();
      await dialog.getByRole('progressbar').waitFor();
      await page.getByText(new RegExp(`Uploaded KXP2 ${version.replace(/\./g, '\\.')}`)).waitFor({ timeout: 60_000 });
    };
    await upload(zst, '2026.11.1', true);
    const row = page.getByRole('row', { name: /2026\.11\.1/ });
    expect(await row.locator('code.checksum').getAttribute('title')).toBe(image.sha256);
    await row.getByText('active', { exact: true }).waitFor();
    expect((await server.app.images.active('KXP2'))?.sha256).toBe(image.sha256);

    // A second version (the same bytes uncompressed are refused as a duplicate: use another build).
    const other = buildPiImage(join(server.dataDir, 'build'), { seed: 'second' });
    await upload(other.path, '2026.11.2', false);
    const second = page.getByRole('row', { name: /2026\.11\.2/ });
    await second.getByRole('button', { name: 'Activate for KXP2' }).click();
    await page.getByText('KXP2 boards now get 2026.11.2').waitFor();
    await row.getByRole('button', { name: 'Activate for KXP2' }).waitFor();
    await second.getByRole('button', { name: 'Delete KXP2 2026.11.2' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete image' }).click();
    // The active image is protected: the server says so, and the dialog offers to go ahead anyway.
    await page.getByRole('dialog').getByRole('button', { name: 'Delete anyway' }).click();
    await page.getByText('Image KXP2 2026.11.2 deleted').waitFor();
    expect((await server.app.images.list()).map((i) => i.version)).toEqual(['2026.11.1']);
    await row.getByRole('button', { name: 'Activate for KXP2' }).click();
    await page.getByText('KXP2 boards now get 2026.11.1').waitFor();
  });

  it('works from the keyboard: a dialog opens with Enter, Escape closes it and focus returns', async () => {
    await navTo('Batches');
    const button = page.getByRole('button', { name: 'New batch' }).first();
    await button.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'New batch' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'New batch' }).waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('New batch');
  });

  it(
    'watches real agents enroll, write and verify: progress bars move and reach success live, without reloading',
    { timeout: 120_000 },
    async () => {
      await navTo('Dashboard');
      await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
      await page.getByText('Live', { exact: true }).waitFor();
      // `rpi-deploy simulate`: three real agents writing card files at an SD-card-like 3 MB/s, so
      // they spend seconds in each phase; and one agent of our own with a card too small for the
      // image, which fails and says why.
      const simulation = new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            CLI,
            'simulate',
            '--boards',
            '3',
            '--rate',
            '3',
            '--run',
            '1',
            '--card-gib',
            '1',
            '--json',
            '--data-dir',
            join(server.dataDir, 'sim'),
            '--server',
            server.device,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.on('close', (code) => resolve({ code, stdout }));
      });
      const smallCard = runAgentProcess(
        [
          '--server',
          server.device,
          '--target',
          cardFile(join(server.dataDir, 'small-card.img'), 8 << 20),
          '--serial',
          SMALL_CARD_SERIAL,
          '--mac',
          '2c:cf:67:00:01:04',
          '--quiet',
        ],
        { timeoutMs: 90_000 },
      );
      for (const serial of SERIALS) await boardRow(serial).waitFor();
      // Watch the rows while the agents work: every phase each board shows, as it shows it, and
      // what its bar says (written and verified percentages) on the way.
      const seen = new Map<string, Set<string>>();
      const bars: string[] = [];
      let photographed = false;
      const watching = (async () => {
        while (seen.size < SERIALS.length || [...seen.values()].some((p) => !p.has('success') && !p.has('failed'))) {
          const rows = await page.evaluate(() =>
            [...document.querySelectorAll<HTMLElement>('li.board[data-serial]')].map((li) => [
              li.dataset['serial']!,
              li.querySelector('.badge')?.textContent ?? '',
              li.querySelector('[role=progressbar]')?.getAttribute('aria-valuetext') ?? '',
            ]),
          );
          for (const [serial, phase, bar] of rows) {
            seen.set(serial!, (seen.get(serial!) ?? new Set()).add(phase!));
            if (bar) bars.push(bar);
          }
          if (rows.some(([, phase]) => phase === 'writing') && !photographed) {
            photographed = true;
            await page.screenshot({ path: join(ARTIFACTS, 'dashboard-writing-laptop.png'), fullPage: true });
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const [simulated, small] = await Promise.all([simulation, smallCard.done]);
      expect(simulated.code).toBe(0);
      expect(small.result?.status).toBe('failed');
      await watching;
      for (const serial of SERIALS.slice(0, 3))
        expect([...seen.get(serial)!], serial).toEqual(expect.arrayContaining(['writing', 'success']));
      // The bar moved through the write, not only at its end: some written share strictly between 0 and 100 %.
      const written = bars.map((b) => Number(/^(\d+)% written, \d+% verified$/.exec(b)?.[1]));
      expect(
        written.some((w) => w > 0 && w < 100),
        bars.join(' | '),
      ).toBe(true);
      for (const serial of SERIALS.slice(0, 3)) {
        await boardRow(serial).locator('.badge', { hasText: 'success' }).waitFor();
        expect(await boardRow(serial).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
      }
      const failed = boardRow(SERIALS[3]!);
      await failed.locator('.badge', { hasText: 'failed' }).waitFor();
      expect(await failed.locator('.board-error').textContent()).toContain(small.result!.message);
      expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
      expect(await page.getByRole('group', { name: 'Boards per phase' }).textContent()).toMatch(
        /4 all.*3 success.*1 failed/,
      );
      await page.getByRole('region', { name: 'Batches' }).getByText('3 / 4 done').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-live-laptop.png'), fullPage: true });

      const failedName = small.result!.hostname!;
      await failed.getByRole('button', { name: `Re-image ${failedName}` }).click();
      await page
        .getByRole('dialog')
        .getByRole('button', { name: `Re-image ${failedName}` })
        .click();
      await page.getByText(/will be re-imaged the next time it boots/).waitFor();
      await failed.getByText('re-image requested').waitFor();
      expect((await server.app.fleet.records.device(SERIALS[3]!)).device.reimageRequestedAt).not.toBeNull();
    },
  );

  it('exports the deployments as CSV with one row per deployment', async () => {
    await navTo('Deployments');
    await page.getByRole('link', { name: 'KXP2-CORO-001' }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const csv = readFileSync(await download.path(), 'utf8')
      .trim()
      .split(/\r?\n/);
    const header = csv[0]!.split(',');
    const rows = csv
      .slice(1)
      .map((line) =>
        Object.fromEntries(line.split(',').map((v, i): [string, string] => [header[i]!, v.replace(/^"|"$/g, '')])),
      );
    const recorded = (await server.app.fleet.records.deployments({})).map((d) => [d.hostname, d.serial, d.status]);
    expect(rows.map((r) => [r['hostname'], r['serial'], r['status']]).sort()).toEqual(recorded.sort());
    expect(rows.map((r) => r['status']).sort()).toEqual(['failed', 'success', 'success', 'success']);
  });

  it('an admin adds a viewer; the viewer sees no edit buttons anywhere', async () => {
    await navTo('Users');
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'New user' });
    await dialog.getByLabel('Username').fill(VIEWER.username);
    await dialog.getByLabel('Password').fill(VIEWER.password);
    await dialog.getByLabel('Role').selectOption('viewer');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page.getByText(`User ${VIEWER.username} created (viewer)`).waitFor();

    const vpage = await browser.page(LAPTOP);
    await vpage.goto(server.management);
    await vpage.getByRole('heading', { name: 'Log in to rpi-deploy' }).waitFor();
    await vpage.screenshot({ path: join(ARTIFACTS, 'login-laptop.png') });
    await vpage.getByLabel('Username').fill(VIEWER.username);
    await vpage.getByLabel('Password').fill(VIEWER.password);
    await vpage.getByRole('button', { name: 'Log in' }).click();
    await vpage.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const editing =
      /^(New venue|Edit|Delete|New batch|Activate|Pause|Cancel batch|Upload image|Re-image.*|Release|Retire|Preview|New user|New token)$/;
    for (const path of [
      '/',
      '/venues',
      '/venues/CORO',
      '/batches',
      '/images',
      '/deployments',
      '/devices',
      `/devices/${SERIALS[2]}`,
      '/system',
    ]) {
      await vpage.goto(`${server.management}${path}`);
      await settled(vpage);
      const buttons = await vpage.locator('main button').allTextContents();
      expect(
        buttons.filter((b) => editing.test(b.trim())),
        `edit buttons on ${path}`,
      ).toEqual([]);
    }
    const nav = await vpage.getByRole('navigation', { name: 'Sections' }).textContent();
    expect(nav).not.toMatch(/Users|Tokens|Audit/);
    await vpage.goto(`${server.management}/users`);
    await vpage.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await vpage.context().close();
  });

  it('screenshots and accessibility of the main pages, laptop and phone', async () => {
    const pages: [string, string][] = [
      ['dashboard', '/'],
      ['venues', '/venues'],
      ['venue', '/venues/CORO'],
      ['batches', '/batches'],
      ['images', '/images'],
      ['deployments', '/deployments'],
      ['devices', '/devices'],
      ['device', `/devices/${SERIALS[2]}`],
      ['system', '/system'],
      ['users', '/users'],
      ['tokens', '/tokens'],
      ['audit', '/audit'],
      ['not-found', '/no/such/page'],
    ];
    const problems: string[] = [];
    for (const [size, viewport] of [
      ['laptop', LAPTOP],
      ['phone', PHONE],
    ] as const) {
      await page.setViewportSize(viewport);
      for (const [name, path] of pages) {
        await page.goto(`${server.management}${path}`);
        await settled(page);
        await page.screenshot({ path: join(ARTIFACTS, `${name}-${size}.png`), fullPage: true });
        for (const v of await seriousViolations(page))
          problems.push(`${name} (${size}): ${v.id} ${v.impact}: ${v.help} at ${v.targets.join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
