import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPiImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { seriousViolations } from './axe.js';
import { createFirstAdmin, launchBrowser, type Browser } from './browser.js';

/**
 * The images page's "Compare": two versions of a product, the diff of one against the other
 * shown in a dialog (chunks, bytes, changed files), in Debian's Chromium against the real server.
 */
let server: TestServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await browser.page();
  page.on('pageerror', (err) => {
    throw err;
  });
  const dir = join(server.dataDir, 'build');
  await server.app.images.import(
    { path: buildPiImage(dir, { seed: 'one' }).path },
    { product: 'KXP2', version: '1.0.0' },
  );
  await server.app.images.import(
    { path: buildPiImage(dir, { seed: 'two' }).path },
    { product: 'KXP2', version: '1.1.0' },
  );
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('images page in Chromium', () => {
  it('compares a version with another: differing chunks and the files whose blocks changed', async () => {
    await createFirstAdmin(page, server);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Images', exact: true }).click();

    await page.getByRole('button', { name: 'Compare KXP2 1.1.0 with another version' }).click();
    const dialog = page.getByRole('dialog', { name: 'KXP2 1.1.0: what changed' });
    await expect.poll(() => dialog.getByLabel('Compare with').inputValue()).not.toBe('');
    const files = dialog.getByRole('region', { name: 'Changed files in partition 2' });
    await files.getByText('/usr/bin/agent-standin', { exact: true }).waitFor();
    const api = await server.app.images.diff(
      (await server.app.images.resolve('KXP2@1.0.0')).id,
      (await server.app.images.resolve('KXP2@1.1.0')).id,
    );
    await dialog.getByText(`${api.differingChunks} of ${api.chunks}`, { exact: false }).waitFor();
    expect(await files.locator('li').count()).toBe(api.partitions[0]!.files.length);
    expect(await seriousViolations(page)).toEqual([]);
  });
});
