import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBootFixture, type BootFixture } from '../helpers/boot-fixture.js';
import { DhcpLab, SERVER_ADDRESS, type Served } from '../helpers/dhcp-lab.js';
import type { RogueOptions, RogueResult } from '../helpers/tftp-rogue-client.js';

/**
 * Loss, duplicates and garbage: a misbehaving client against `rpi-deploy serve` in a namespace.
 * Retransmission happens on timeout only (500 ms here), never because of a duplicate ACK.
 */

const ROGUE = fileURLToPath(new URL('../helpers/tftp-rogue-client.ts', import.meta.url));
const RETRANSMIT_MS = 500;
const MAX_RETRIES = 3;
let lab: DhcpLab;
let served: Served;
let fixture: BootFixture;
let client: string;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function rogue(o: Omit<RogueOptions, 'server'>): Promise<RogueResult> {
  const r = await lab.run(
    client,
    [process.execPath, '--import', 'tsx', ROGUE, JSON.stringify({ server: SERVER_ADDRESS, ...o })],
    120_000,
  );
  if (r.code !== 0) throw new Error(`rogue client failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as RogueResult;
}

beforeAll(async () => {
  lab = new DhcpLab();
  client = lab.lab.namespace('cli');
  lab.plug(client, 'eth0', '198.18.0.2/24');
  fixture = writeBootFixture(lab.dir.path, lab.dataDir, { kernelBytes: 300_000 });
  served = await lab.serve({
    dhcp: { enabled: false },
    tftp: { bootFilesDir: fixture.bootFilesDir, retransmitMs: RETRANSMIT_MS, maxRetries: MAX_RETRIES },
  });
});

afterAll(async () => {
  await served?.stop();
  await lab?.destroy();
});

describe('TFTP under loss and abuse', () => {
  const kernel = () => sha256(fixture.files['kernel_2712.img']!);

  it('sends nothing for duplicate ACKs: one DATA per block (no Sorcerer’s Apprentice)', async () => {
    const r = await rogue({ mode: 'duplicate-acks', path: 'kernel_2712.img', blksize: 1468, copies: 4 });
    expect(r.problems).toEqual([]);
    expect(r.sha256).toBe(kernel());
    expect(r.repeats).toEqual([]);
    expect(r.dataPackets).toBe(r.blocks);
  });

  it('resends a block whose ACK never came, after the timeout and only then', async () => {
    const r = await rogue({ mode: 'withhold-acks', path: 'kernel_2712.img', blksize: 1468, blocks: [3, 100] });
    expect(r.problems).toEqual([]);
    expect(r.sha256).toBe(kernel());
    expect(r.repeats.map((x) => x.block)).toEqual([3, 100]);
    for (const x of r.repeats) expect(x.afterMs).toBeGreaterThanOrEqual(RETRANSMIT_MS * 0.8);
    expect(r.dataPackets).toBe(r.blocks + 2);
  });

  it('restarts an RFC 7440 window right after a gap the client reports, without waiting for a timeout', async () => {
    const r = await rogue({ mode: 'window-gap', path: 'kernel_2712.img', blksize: 1468, windowsize: 8, blocks: [12] });
    expect(r.problems).toEqual([]);
    expect(r.sha256).toBe(kernel());
    expect(r.recoveryMs).toBeLessThan(RETRANSMIT_MS / 2);
    // Only the blocks after the gap in that window came twice.
    for (const x of r.repeats) expect(x.block > 12 && x.block <= 16).toBe(true);
  });

  it('gives a silent client a few retransmissions a timeout apart, then lets it go', async () => {
    const r = await rogue({ mode: 'silent', path: 'kernel_2712.img', blksize: 1468, listenMs: RETRANSMIT_MS * 4 });
    expect(r.arrivals).toHaveLength(MAX_RETRIES);
    r.arrivals.forEach((at, i) => expect(at).toBeGreaterThanOrEqual(RETRANSMIT_MS * (i + 1) * 0.8));
  });

  it('lets a client whose port closed go at the first datagram refused (ICMP port unreachable), not after every retry', async () => {
    // Retransmissions would come at 1, 2 and 3 timeouts; the first draws the ICMP error.
    const r = await rogue({
      mode: 'vanish',
      path: 'kernel_2712.img',
      blksize: 1468,
      reopenAfterMs: RETRANSMIT_MS * 1.5,
      listenMs: RETRANSMIT_MS * 4,
    });
    expect(r.problems).toEqual([]);
    expect(r.arrivals).toEqual([]);
    const silent = await rogue({ mode: 'silent', path: 'kernel_2712.img', blksize: 1468, listenMs: RETRANSMIT_MS * 4 });
    expect(silent.arrivals).toHaveLength(MAX_RETRIES);
  });

  it('skips random and truncated datagrams, on port 69 and inside a transfer, and keeps serving', async () => {
    const r = await rogue({ mode: 'fuzz', path: 'kernel_2712.img', blksize: 512, count: 3000 });
    expect(r.problems).toEqual([]);
    expect(r.sha256).toBe(kernel());
    expect(await served.waitForLog((l) => l['msg'] === 'malformed TFTP datagram skipped')).toBeDefined();
    const after = await lab.run(client, [
      'sh',
      '-c',
      `curl -sS --tftp-blksize 1468 tftp://${SERVER_ADDRESS}/kernel_2712.img | sha256sum`,
    ]);
    expect(after.stdout.split(' ')[0]).toBe(kernel());
    expect(served.child.exitCode).toBeNull();
  });
});
