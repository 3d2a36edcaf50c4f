import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGE1_FILE } from '../../src/netboot/boot-tree/paths.js';
import { parseKernelCmdline } from '../../src/agent/identify.js';
import { writeBootFixture, type BootFixture } from '../helpers/boot-fixture.js';
import { DhcpLab, SERVER_ADDRESS, type Served } from '../helpers/dhcp-lab.js';
import { parseExposition } from '../helpers/prometheus.js';
import type { TftpReplayResult } from '../helpers/pi5-tftp-replayer.js';

/**
 * TFTP against real clients (curl, atftp with and without RFC 7440 windows, tftp-hpa) and the
 * Pi 5 bootloader replayer, with `rpi-deploy serve` from the build in its own namespace.
 */

const REPLAYER = fileURLToPath(new URL('../helpers/pi5-tftp-replayer.ts', import.meta.url));
const URL_BASE = `tftp://${SERVER_ADDRESS}`;
let lab: DhcpLab;
let served: Served;
let fixture: BootFixture;
let client: string;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const out = (name: string) => join(lab.dir.path, name);

/** Runs a client command in the client namespace; resolves with its exit code and output. */
const sh = (cmd: string, timeoutMs = 60_000) => lab.run(client, ['sh', '-c', cmd], timeoutMs);

beforeAll(async () => {
  lab = new DhcpLab();
  client = lab.lab.namespace('cli');
  lab.plug(client, 'eth0', '198.18.0.2/24');
  fixture = writeBootFixture(lab.dir.path, lab.dataDir);
  // A kernel over 65535 blocks of 512 bytes: the block counter must wrap.
  fixture.files['kernel8.img'] = randomBytes(65_536 * 512 + 1_000);
  writeFileSync(join(fixture.bootFilesDir, 'kernel8.img'), fixture.files['kernel8.img']);
  served = await lab.serve(
    {
      dhcp: { enabled: false },
      tftp: { bootFilesDir: fixture.bootFilesDir, retransmitMs: 500, maxRetries: 3 },
    },
    [],
    'debug',
    { management: { metrics: { fromLocalhost: true } } },
  );
});

afterAll(async () => {
  await served?.stop();
  await lab?.destroy();
});

describe('TFTP with the Pi 5 bootloader replayer', () => {
  it('boots a board from its own directory: every file read as the EEPROM does, every reply as it expects', async () => {
    const r = await lab.run(client, [
      process.execPath,
      '--import',
      'tsx',
      REPLAYER,
      JSON.stringify({ server: SERVER_ADDRESS, serial8: '9ffefdef', saveDir: out('pi') }),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as TftpReplayResult;
    expect(result.problems).toEqual([]);
    expect(result.prefix).toBe('9ffefdef/');
    const status = Object.fromEntries(result.files.map((f) => [f.path.replace('9ffefdef/', ''), f.status]));
    expect(status).toEqual({
      'config.txt': 'ok',
      'bcm2712-rpi-5-b.dtb': 'ok',
      'kernel_2712.img': 'ok',
      [STAGE1_FILE]: 'ok',
      'overlays/overlay_map.dtb': 'ok',
      'overlays/bcm2712d0.dtbo': 'ok',
      'cmdline.txt': 'ok',
      'pieeprom.sig': 'not-found',
      'armstub8-2712.bin': 'not-found',
    });
    const saved = (name: string) => readFileSync(join(out('pi'), '9ffefdef', name));
    expect(sha256(saved('kernel_2712.img'))).toBe(sha256(fixture.files['kernel_2712.img']!));
    expect(sha256(saved(STAGE1_FILE))).toBe(fixture.manifest.stage1.sha256);
    expect(saved('overlays/bcm2712d0.dtbo').equals(fixture.files['overlays/bcm2712d0.dtbo']!)).toBe(true);
    const params = parseKernelCmdline(saved('cmdline.txt').toString());
    expect(params.get('rpi_deploy.runtime')).toBe(fixture.manifest.runtime.sha256);
    expect(params.get('rpi_deploy.target')).toBe('/dev/mmcblk0');
    expect(params.get('rpi_deploy.token')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const servedEvent = await served.waitForLog(
      (l) => l['msg'] === 'tftp.served' && l['path'] === `9ffefdef/${STAGE1_FILE}`,
    );
    expect(servedEvent).toMatchObject({
      serial8: '9ffefdef',
      bytes: fixture.stage1.length,
      blksize: 1468,
      windowsize: 1,
      client: '198.18.0.2',
    });
    expect(servedEvent!['durationMs']).toEqual(expect.any(Number));
  });
});

describe('TFTP with real clients', () => {
  it.each([
    ['curl, blksize 1468', (f: string) => `curl -sS --tftp-blksize 1468 -o ${f} ${URL_BASE}/kernel_2712.img`],
    ['curl, its default options', (f: string) => `curl -sS -o ${f} ${URL_BASE}/9ffefdef/kernel_2712.img`],
    [
      'atftp, blksize 1468',
      (f: string) => `atftp -g -r kernel_2712.img -l ${f} --option "blksize 1468" ${SERVER_ADDRESS}`,
    ],
    [
      'atftp, windowsize 16',
      (f: string) =>
        `atftp -g -r kernel_2712.img -l ${f} --option "blksize 1468" --option "windowsize 16" ${SERVER_ADDRESS}`,
    ],
    [
      'atftp, windowsize 64 asked for a big block',
      (f: string) =>
        `atftp -g -r kernel_2712.img -l ${f} --option "blksize 8192" --option "windowsize 64" ${SERVER_ADDRESS}`,
    ],
    [
      'tftp-hpa, plain RFC 1350 (512-byte blocks, no options)',
      (f: string) => `tftp -m binary ${SERVER_ADDRESS} -c get kernel_2712.img ${f}`,
    ],
  ])('%s fetches the kernel byte for byte', async (name, command) => {
    const file = out(`${name.replace(/\W+/g, '-')}.img`);
    const r = await sh(command(file));
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(readFileSync(file))).toBe(sha256(fixture.files['kernel_2712.img']!));
  });

  it('serves a file over 65535 blocks: the block counter wraps (curl and tftp-hpa at 512 bytes)', async () => {
    const want = sha256(fixture.files['kernel8.img']!);
    const curl = await sh(`curl -sS --tftp-blksize 512 -o ${out('wrap-curl')} ${URL_BASE}/kernel8.img`, 120_000);
    expect(curl.code, curl.stderr).toBe(0);
    expect(sha256(readFileSync(out('wrap-curl')))).toBe(want);
    const hpa = await sh(`tftp -m binary ${SERVER_ADDRESS} -c get kernel8.img ${out('wrap-hpa')}`, 120_000);
    expect(hpa.code, hpa.stderr).toBe(0);
    expect(sha256(readFileSync(out('wrap-hpa')))).toBe(want);
  });

  it('converts to netascii for tftp-hpa in its default mode', async () => {
    const r = await sh(`tftp ${SERVER_ADDRESS} -c get 9ffefdef/config.txt ${out('config-netascii.txt')}`);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(out('config-netascii.txt'), 'utf8');
    expect(text).toContain('kernel=kernel_2712.img\n');
    expect(text).not.toContain('\r');
  });

  it('answers a missing file with ERROR 1 at once, and a path out of the tree with ERROR 2', async () => {
    const started = Date.now();
    const missing = await sh(`curl -sS -o /dev/null ${URL_BASE}/9ffefdef/start4.elf`);
    expect(missing.code).toBe(68); // curl: TFTP file not found
    expect(Date.now() - started).toBeLessThan(5000);
    const escape = await sh(`atftp -g -r ../../../../etc/passwd -l ${out('passwd')} ${SERVER_ADDRESS} 2>&1`);
    expect(escape.code).not.toBe(0);
    expect(escape.stdout + escape.stderr).toMatch(/Access violation/i);
    const curlEscape = await sh(`curl -sS --path-as-is -o /dev/null ${URL_BASE}/9ffefdef/../../etc/passwd`);
    expect(curlEscape.code).not.toBe(0);
  });

  it('counts transfers and bytes in /metrics: one read started, completed and its bytes; a refused one not', async () => {
    const url = `${/management API\s+(\S+)/.exec(served.stdout())![1]}/metrics`;
    const scrape = async () => parseExposition((await lab.run(lab.server, ['curl', '-sS', url])).stdout);
    const before = await scrape();
    const moved = (after: Map<string, number>, key: string) => (after.get(key) ?? NaN) - (before.get(key) ?? 0);
    const read = await sh(`curl -sS --tftp-blksize 1468 -o ${out('metrics-kernel')} ${URL_BASE}/kernel_2712.img`);
    expect(read.code, read.stderr).toBe(0);
    expect((await sh(`curl -sS -o /dev/null ${URL_BASE}/9ffefdef/start4.elf`)).code).toBe(68);
    // The server counts a transfer when the last ACK arrives, which may be just after curl exits.
    let after = await scrape();
    for (let i = 0; i < 40 && moved(after, 'rpi_deploy_tftp_transfers_ended_total{outcome="completed"}') < 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await scrape();
    }
    expect(moved(after, 'rpi_deploy_tftp_transfers_started_total')).toBe(1);
    expect(moved(after, 'rpi_deploy_tftp_transfers_ended_total{outcome="completed"}')).toBe(1);
    expect(moved(after, 'rpi_deploy_tftp_transfers_ended_total{outcome="failed"}')).toBe(0);
    expect(moved(after, 'rpi_deploy_served_bytes_total{path="tftp"}')).toBe(fixture.files['kernel_2712.img']!.length);
  });

  it('serves twenty clients at once, each byte for byte', async () => {
    const cmds = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? `curl -sS --tftp-blksize 1468 -o ${out(`par-${i}`)} ${URL_BASE}/kernel_2712.img`
        : `atftp -g -r kernel_2712.img -l ${out(`par-${i}`)} --option "blksize 1468" --option "windowsize 8" ${SERVER_ADDRESS}`,
    );
    const r = await sh(`${cmds.map((c) => `(${c}) &`).join(' ')} wait`, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const want = sha256(fixture.files['kernel_2712.img']!);
    for (let i = 0; i < 20; i++) expect(sha256(readFileSync(out(`par-${i}`)))).toBe(want);
  });

  it('binds the deployment address only: nothing answers on the other interface', async () => {
    const r = await lab.run(lab.other, [
      'sh',
      '-c',
      `ip addr add 198.19.0.2/24 dev eth0; curl -sS --max-time 5 -o /dev/null tftp://198.19.0.1/kernel_2712.img`,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(/not found/i);
  });

  it('offers no block bigger than the LAN carries in one packet (MTU 1400 → blksize 1368)', async () => {
    await served.stop();
    lab.lab.exec(lab.server, ['ip', 'link', 'set', 'lan0', 'mtu', '1400']);
    served = await lab.serve({ dhcp: { enabled: false }, tftp: { bootFilesDir: fixture.bootFilesDir } });
    const r = await sh(`curl -sS --tftp-blksize 1468 -o ${out('mtu.img')} ${URL_BASE}/kernel_2712.img`);
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(readFileSync(out('mtu.img')))).toBe(sha256(fixture.files['kernel_2712.img']!));
    expect(await served.waitForLog((l) => l['msg'] === 'tftp.served' && l['path'] === 'kernel_2712.img')).toMatchObject(
      { blksize: 1368 },
    );
  });

  it('sends a window datagram by datagram where the route refuses segmented sends, without losing it', async () => {
    // A path MTU locked below the block: the kernel refuses UDP segmentation (EINVAL) and fragments
    // plain datagrams. A window lost to the refusal would show as a retransmission, a timeout late.
    lab.lab.exec(lab.server, [
      'ip',
      'route',
      'replace',
      '198.18.0.0/24',
      'dev',
      'lan0',
      'src',
      SERVER_ADDRESS,
      'mtu',
      'lock',
      '1000',
    ]);
    try {
      const file = out('no-gso.img');
      const r = await sh(
        `atftp -g -r kernel_2712.img -l ${file} --option "blksize 1468" --option "windowsize 16" ${SERVER_ADDRESS}`,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(sha256(readFileSync(file))).toBe(sha256(fixture.files['kernel_2712.img']!));
      const log = await served.waitForLog(
        (l) => l['msg'] === 'tftp.served' && l['path'] === 'kernel_2712.img' && l['windowsize'] === 16,
      );
      expect(log?.['durationMs']).toBeLessThan(1000);
    } finally {
      lab.lab.exec(lab.server, ['ip', 'route', 'replace', '198.18.0.0/24', 'dev', 'lan0', 'src', SERVER_ADDRESS]);
    }
  });
});
