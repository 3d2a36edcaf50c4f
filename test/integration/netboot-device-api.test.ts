import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBootTokens } from '../../src/netboot/boot-tree/boot-tokens.js';
import { v1Paths } from '../../src/protocol/agent-api.js';
import { writeBootFixture } from '../helpers/boot-fixture.js';
import { runCli } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

let server: TestServer;
beforeEach(async () => (server = await startServer()));
afterEach(async () => server.stop());

describe('the runtime bundle on the device API', () => {
  it('is served by its SHA-256 only, byte for byte', async () => {
    const scratch = tempDir();
    const fixture = writeBootFixture(scratch.path, server.dataDir);
    const res = await fetch(`${server.device}${v1Paths.runtime(fixture.manifest.runtime.sha256)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(fixture.runtime.length));
    const body = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(fixture.manifest.runtime.sha256);

    // Compressed, as stage 1 fetches it: gunzip gives back the same bytes, and fewer cross the link.
    const gz = await fetch(`${server.device}${v1Paths.runtimeGzip(fixture.manifest.runtime.sha256)}`);
    expect(gz.status).toBe(200);
    expect(gz.headers.get('content-type')).toBe('application/gzip');
    const packed = Buffer.from(await gz.arrayBuffer());
    expect(gunzipSync(packed).equals(body)).toBe(true);
    expect(Number(gz.headers.get('content-length'))).toBe(packed.length);

    const stale = await fetch(`${server.device}${v1Paths.runtime('0'.repeat(64))}`);
    expect(stale.status).toBe(404);
    expect(await stale.json()).toMatchObject({ code: 'NOT_FOUND' });
    for (const bad of ['../build.json', `${fixture.manifest.runtime.sha256}.img`, 'ABC.tar', '%2e%2e%2fbuild.json']) {
      const r = await fetch(`${server.device}/v1/runtime/${bad}`);
      expect([bad, [400, 404].includes(r.status)]).toEqual([bad, true]);
    }
    scratch.remove();
  });

  it('is not found before anything was built', async () => {
    expect((await fetch(`${server.device}${v1Paths.runtime('a'.repeat(64))}`)).status).toBe(404);
  });
});

describe('per-boot tokens at enrollment', () => {
  /** Network boot on, on loopback, without DHCP or TFTP sockets: what the device API sees is the same. */
  let netbooting: TestServer;
  beforeAll(async () => {
    netbooting = await startServer({
      flags: { 'netboot.interface': 'lo', 'netboot.dhcp.enabled': false, 'netboot.tftp.enabled': false },
    });
  });
  afterAll(async () => netbooting.stop());

  const enroll = (base: string, body: Record<string, unknown>) =>
    fetch(`${base}${v1Paths.enroll}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ macs: [], storageBytes: 64e9, ...body }),
    });

  it('accepts the token netboot issued for the board (full serial or its last 8 digits) and refuses any other', async () => {
    const tokens = createBootTokens({ store: netbooting.app.store, ttlMs: 60_000 });
    const token = await tokens.issue('d137e638');
    for (const serial of ['9d00ce41d137e638', 'd137e638']) {
      const ok = await enroll(netbooting.device, { serial, bootToken: token });
      expect([serial, ((await ok.json()) as { code?: string }).code]).not.toEqual([
        serial,
        'DEVICE_BOOT_TOKEN_INVALID',
      ]);
    }
    const forged = await enroll(netbooting.device, {
      serial: '9d00ce41d137e638',
      bootToken: token.replace(/^./, token.startsWith('A') ? 'B' : 'A'),
    });
    expect(await forged.json()).toMatchObject({ code: 'DEVICE_BOOT_TOKEN_INVALID' });
    const otherBoard = await enroll(netbooting.device, { serial: 'aaaaaaaa0000beef', bootToken: token });
    expect(await otherBoard.json()).toMatchObject({ code: 'DEVICE_BOOT_TOKEN_INVALID' });
    expect(otherBoard.status).toBeGreaterThanOrEqual(400);
  });

  it('refuses an enroll without a boot token while network boot is on, and writes nothing', async () => {
    const r = await enroll(netbooting.device, { serial: '9d00ce41d137e639', venue: 'CORO', product: 'KXP2' });
    expect([r.status, ((await r.json()) as { code?: string }).code]).toEqual([401, 'DEVICE_BOOT_TOKEN_MISSING']);
    expect(
      await netbooting.app.store.db
        .selectFrom('devices')
        .selectAll()
        .where('serial', '=', '9d00ce41d137e639')
        .execute(),
    ).toEqual([]);
  });

  it('does not ask for one while network boot is off (boards started by hand, simulated boards)', async () => {
    const r = await enroll(server.device, { serial: '9d00ce41d137e639', venue: 'CORO', product: 'KXP2' });
    expect(((await r.json()) as { code?: string }).code).toBe('FLEET_VENUE_UNKNOWN');
  });
});

describe('rpi-deploy netboot build', () => {
  it('says what to do when the agent bundle is missing, before downloading anything', () => {
    const dir = tempDir();
    const r = runCli(['netboot', 'build', '--data-dir', dir.path, '--agent', `${dir.path}/missing.mjs`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('run "npm run build" first');
    dir.remove();
  });
});
