import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { ADMIN, createFirstAdmin, launchBrowser, LAPTOP, PHONE, type Browser } from './browser.js';

/**
 * Issue 13: the dashboard's search field cut its placeholder off ("Find hostname, serial, I").
 * Every search field shows its whole placeholder, at laptop and at phone size, in the page's own
 * font and in a monospace one: the widest a browser may fall back to, standing in for the fonts
 * of machines other than this one.
 */

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const page = await browser.page(LAPTOP);
  await createFirstAdmin(page, server);
  await page.context().close();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function signedIn(viewport: { width: number; height: number }): Promise<Page> {
  const page = await browser.page(viewport);
  await page.goto(server.management);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  return page;
}

/** The placeholder's width in the field's own font against the room inside the field, in CSS pixels. */
function placeholderFit(page: Page) {
  return page.locator('input.search').evaluateAll((inputs) =>
    inputs.map((el) => {
      const input = el as HTMLInputElement;
      const style = getComputedStyle(input, '::placeholder');
      const ctx = document.createElement('canvas').getContext('2d')!;
      ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const own = getComputedStyle(input);
      // A search field keeps room for its clear button on the right.
      const room = input.clientWidth - parseFloat(own.paddingLeft) - parseFloat(own.paddingRight);
      return { placeholder: input.placeholder, text: Math.ceil(ctx.measureText(input.placeholder).width), room };
    }),
  );
}

describe('search fields', () => {
  it.each([
    ['laptop', LAPTOP],
    ['phone', PHONE],
  ])('show their whole placeholder on the dashboard and the devices page (%s)', async (_size, viewport) => {
    const page = await signedIn(viewport);
    const fits = async () => {
      const own = await placeholderFit(page);
      // Through the CSSOM: the page's content security policy refuses inline style sheets.
      await page
        .locator('input.search')
        .evaluateAll((inputs) =>
          inputs.forEach((el) => (el as HTMLInputElement).style.setProperty('font-family', 'monospace')),
        );
      return [...own, ...(await placeholderFit(page))];
    };
    const dashboard = await fits();
    await page.goto(`${server.management}/devices`);
    await page.getByRole('heading', { level: 1, name: 'Devices' }).waitFor();
    const devices = await fits();
    expect(dashboard.length + devices.length).toBe(4);
    for (const field of [...dashboard, ...devices])
      expect(field.text, field.placeholder).toBeLessThanOrEqual(field.room);
    await page.context().close();
  });
});
