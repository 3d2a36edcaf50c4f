import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { createFirstAdmin, launchBrowser, LAPTOP, type Browser } from './browser.js';

/**
 * Issue 13: the venue page listed every number with its own Retire button; 66 numbers made a page
 * 3,576 px long. Numbers are now ranges by state, a page of ranges at a time, and a selection of
 * free numbers is retired in one action.
 */
/** About two laptop screens: the header, the pool counts, the import form and one page of ranges. */
const MAX_PAGE_HEIGHT = 1800;

let server: TestServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await browser.page(LAPTOP);
  await createFirstAdmin(page, server);

  // 80 numbers: 1–40 free, then 41–80 alternating retired and free (41 ranges, three pages),
  // and 1 held by a board.
  const { fleet } = server.app;
  await fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await fleet.pools.import({ venue: 'CORO', text: '1-80' });
  for (let n = 41; n <= 80; n += 2) await fleet.pools.retire(`KXP2-CORO-0${n}`);
  await fleet.enrollment.enroll({ serial: '10000001', venue: 'CORO', product: 'KXP2' });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const statusOf = async (n: number) =>
  (await server.app.fleet.pools.list({ venue: 'CORO' })).find((e) => e.number === n)?.status;

describe('venue page pool', () => {
  it('shows 80 numbers as ranges by state, a page at a time, in a bounded height', async () => {
    await page.goto(`${server.management}/venues/CORO`);
    const table = page.getByRole('table', { name: 'KXP2 hostname pool' });
    await table.getByRole('cell', { name: 'KXP2-CORO-002 – 040', exact: true }).waitFor();
    expect(await table.locator('tbody tr').count()).toBe(20);
    expect(await table.getByRole('cell', { name: 'KXP2-CORO-001', exact: true }).count()).toBe(1);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    expect(height).toBeLessThanOrEqual(MAX_PAGE_HEIGHT);

    await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Next' }).click();
    await table.getByRole('cell', { name: 'KXP2-CORO-059', exact: true }).waitFor();
  });

  it('retires a selected range in one action, and the API shows it', async () => {
    await page.goto(`${server.management}/venues/CORO`);
    await page.getByRole('checkbox', { name: 'Select KXP2-CORO-002 – 040' }).check();
    await page.getByRole('checkbox', { name: 'Select KXP2-CORO-042' }).check();
    await page.getByText('40 selected').waitFor();
    await page.getByRole('button', { name: 'Retire selected' }).click();
    const dialog = page.getByRole('dialog', { name: 'Retire 40 numbers?' });
    await dialog.getByRole('button', { name: 'Retire' }).click();
    await page.getByText('40 numbers retired').waitFor();

    const pool = await server.app.fleet.pools.list({ venue: 'CORO' });
    const retired = pool.filter((e) => e.status === 'retired').map((e) => e.number);
    expect(retired).toEqual(
      [...Array.from({ length: 39 }, (_, i) => i + 2), ...range(41, 80, 2), 42].sort((a, b) => a - b),
    );
    expect(await statusOf(1)).toBe('assigned');
    // 2–43 are now one retired range.
    await page
      .getByRole('table', { name: 'KXP2 hostname pool' })
      .getByRole('cell', { name: 'KXP2-CORO-002 – 043', exact: true })
      .waitFor();
  });

  it('releases a retired range back to the pool', async () => {
    await page
      .getByRole('table', { name: 'KXP2 hostname pool' })
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: 'KXP2-CORO-002 – 043', exact: true }) })
      .getByRole('button', { name: 'Release' })
      .click();
    await page
      .getByRole('dialog', { name: 'Release KXP2-CORO-002 – 043?' })
      .getByRole('button', { name: 'Release' })
      .click();
    await page.getByText('KXP2-CORO-002 – 043 released back to the pool').waitFor();
    const pool = await server.app.fleet.pools.list({ venue: 'CORO' });
    expect(pool.filter((e) => e.number >= 2 && e.number <= 43).every((e) => e.status === 'available')).toBe(true);
    expect(await statusOf(45)).toBe('retired');
  });
});

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n += step) out.push(n);
  return out;
}
