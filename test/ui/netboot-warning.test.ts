import { createSocket } from 'node:dgram';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { createFirstAdmin, launchBrowser, type Browser } from './browser.js';

/**
 * Issue 13: the empty dashboard said "Power on the boards…" while network boot was off, so no
 * board could ever appear. It now says what to set, and the system page shows TFTP and stage 1.
 * Network boot "on" is the cheapest real way: TFTP on loopback (an unprivileged port), no DHCP.
 */

let browser: Browser;
const servers: TestServer[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.stop()));
});

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

async function dashboardOf(flags: Record<string, unknown>): Promise<{ server: TestServer; page: Page }> {
  const server = await startServer({ flags });
  servers.push(server);
  const page = await browser.page();
  await createFirstAdmin(page, server);
  return { server, page };
}

function systemRow(page: Page, name: string) {
  return page
    .locator('.kv > div')
    .filter({ has: page.getByText(name, { exact: true }) })
    .locator('dd');
}

describe('network boot status', () => {
  it('warns on the empty dashboard when netboot.interface is unset, with what to set', async () => {
    const { page } = await dashboardOf({});
    const warning = page.getByRole('alert').filter({ hasText: 'Network boot is off' });
    await warning.waitFor();
    expect(await warning.textContent()).toContain('netboot.interface');
    expect(await warning.textContent()).toContain('rpi-deploy netboot build');
    expect(await page.getByText('Power on the boards').count()).toBe(0);

    await page.getByRole('link', { name: 'System' }).click();
    await page.getByRole('heading', { level: 1, name: 'System' }).waitFor();
    expect(await systemRow(page, 'TFTP').textContent()).toBe('off');
    expect(await systemRow(page, 'Stage-1 boot files').textContent()).toBe('not built: run rpi-deploy netboot build');
    await page.context().close();
  });

  it('does not warn when network boot serves, and the system page shows where TFTP listens', async () => {
    const port = await freeUdpPort();
    const { page } = await dashboardOf({
      'netboot.interface': 'lo',
      'netboot.dhcp.enabled': false,
      'netboot.tftp.port': port,
    });
    await page.getByText('Power on the boards').waitFor();
    expect(await page.getByText('Network boot is off').count()).toBe(0);

    await page.getByRole('link', { name: 'System' }).click();
    await page.getByRole('heading', { level: 1, name: 'System' }).waitFor();
    await systemRow(page, 'TFTP').filter({ hasText: 'serving' }).waitFor();
    expect(await systemRow(page, 'TFTP').textContent()).toBe(`serving on 127.0.0.1:${port}`);
    await page.context().close();
  });
});
