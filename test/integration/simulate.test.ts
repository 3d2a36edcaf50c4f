import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetEvent } from '../../src/protocol/events.js';
import { CLI } from '../helpers/cli.js';
import { signedIn } from '../helpers/management-client.js';
import { buildPiImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

let server: TestServer;
let work: ReturnType<typeof tempDir>;

beforeAll(async () => {
  work = tempDir('rpi-deploy-sim-');
  server = await startServer();
  const pi = buildPiImage(work.path, { seed: 'simulate' });
  await server.app.images.import({ path: pi.path }, { product: 'RXP2', version: '2026.11.1', activate: true });
  await server.app.fleet.venues.create({ code: 'SIMU', name: 'Simulation' });
});
afterAll(async () => {
  await server.stop();
  work.remove();
});

function runSimulate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [CLI, 'simulate', '--data-dir', work.path, '--server', server.device, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('rpi-deploy simulate', () => {
  it('runs N real agents whose progress and success the dashboard sees live', async () => {
    const viewer = await signedIn(server, 'vera', 'viewer');
    const seen: FleetEvent[] = [];
    const es = new EventSource(`${server.management}/api/v1/events`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie: viewer.cookie! } }),
    });
    es.onmessage = (e) => seen.push(JSON.parse(e.data as string) as FleetEvent);
    await new Promise((resolve) => es.addEventListener('ready', resolve));

    const r = await runSimulate([
      '--boards',
      '3',
      '--run',
      '7',
      '--venue',
      'SIMU',
      '--product',
      'RXP2',
      '--rate',
      '50',
      '--card-gib',
      '1',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('3 of 3 board(s) imaged successfully');
    const serials = ['5140da7a00070000', '5140da7a00070001', '5140da7a00070002'];
    for (const s of serials) expect(r.stdout).toContain(`${s}  RXP2-SIMU-${s.slice(-8).toUpperCase()}  success`);

    const success = () =>
      seen
        .filter((e) => e.type === 'deployment.phase' && (e.data as { phase: string }).phase === 'success')
        .map((e) => (e.data as { serial: string }).serial);
    // Live events leave in batches (up to 100 ms apart): the last may still be on its way when simulate exits.
    const deadline = Date.now() + 5_000;
    while (success().length < serials.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    es.close();
    expect(success().sort()).toEqual(serials);
    expect(seen.some((e) => e.type === 'deployment.progress')).toBe(true);
    const device = (await server.app.fleet.records.device(serials[0]!)).device;
    expect(device.macs).toEqual(['02:51:00:07:00:00']);
    expect(existsSync(join(work.path, 'simulate')) && readdirSync(join(work.path, 'simulate'))).toEqual([]);
  });

  it('refuses a bad board count with usage exit code 2', async () => {
    const r = await runSimulate(['--boards', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--boards/);
  });
});
