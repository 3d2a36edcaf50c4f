import { chromium, type Browser as PwBrowser, type Page } from 'playwright-core';
import type { TestServer } from '../helpers/start-server.js';

/**
 * Debian's Chromium driven by playwright-core: never a downloaded browser (`npx playwright
 * install` cannot work offline) and no traffic beyond loopback. Playwright starts Chromium with a
 * fresh temporary `--user-data-dir` (and `--headless`) itself; each page gets its own context,
 * so two users (an admin and a viewer) have separate cookie jars.
 */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export interface Browser {
  /** a page in a new context (its own cookies), at laptop size unless told */
  page(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const browser: PwBrowser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  return {
    async page(viewport = LAPTOP) {
      const context = await browser.newContext({ viewport, acceptDownloads: true, locale: 'en-GB', timezoneId: 'UTC' });
      context.setDefaultTimeout(10_000);
      return context.newPage();
    },
    close: () => browser.close(),
  };
}

/** The first administrator the UI tests create. */
export const ADMIN = { username: 'tech', password: 'correct horse battery' };

/**
 * Signs `page` in to a fresh server as its first administrator: the setup page, with the setup
 * token the server printed, then the dashboard.
 */
export async function createFirstAdmin(
  page: Page,
  server: Pick<TestServer, 'management' | 'setupToken'>,
  admin = ADMIN,
): Promise<void> {
  await page.goto(server.management);
  await page.getByLabel('Setup token').fill(server.setupToken!);
  await page.getByLabel('Administrator username').fill(admin.username);
  await page.getByLabel('Password', { exact: true }).fill(admin.password);
  await page.getByLabel('Password again').fill(admin.password);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
}
