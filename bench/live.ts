/**
 * Live channel under fleet load (issue 5): 500 boards report progress twice a second through the
 * real device API (POST /v1/deployments/:id/progress, real sockets, each with its enroll token),
 * and signed-in dashboards follow GET /api/v1/events (SSE). Measures how long a progress report
 * takes to reach a live client (from when the report was due: open loop, no coordinated
 * omission) and how much CPU the server process uses meanwhile (/proc/<pid>/stat).
 * Target: p95 ≤ 1 s, server under one core. Usage: npm run bench -- live
 *
 * The boards are driven by HTTP here rather than by `rpi-deploy simulate`: 500 real agents would
 * also write 500 card files and download every chunk on the same two cores, which measures the
 * machine, not the live channel.
 */
import { readFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openCore } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import { createUserService } from '../src/management/index.js';
import { simulatedIdentity } from '../src/simulate/index.js';
import { loopbackServe, spawnServe } from '../test/helpers/cli.js';
import { buildPiImage } from '../test/helpers/pi-image.js';
import { tempDir } from '../test/helpers/temp-dir.js';

export const BOARDS = 500;
export const REPORTS_PER_S = 2;
export const DURATION_S = 20;
export const WARMUP_S = 3;
const CONNECTIONS = 100;
export const LIVE_PASSWORD = 'load test secret 42';

export interface EnrolledBoard {
  serial: string;
  deploymentId: number;
  token: string;
  bytesTotal: number;
}

/** `rpi-deploy serve` on a fresh data directory, with BOARDS boards enrolled through the device API. */
export interface LiveFleet {
  device: URL;
  management: URL;
  agent: Agent;
  pid: number;
  boards: EnrolledBoard[];
  stop: () => void;
}

/**
 * The fleet both live benchmarks drive: one active RXP2 image, a viewer `bench`, the server in
 * its own process and BOARDS enrolled boards (serials from `simulatedIdentity(run, i)`).
 */
export async function startLiveFleet(dir: string, run: number): Promise<LiveFleet> {
  const core = await openCore(loadConfig({ flags: { dataDir: dir } }), createLogger('silent'));
  try {
    await core.fleet.venues.create({ code: 'BNCH', name: 'Bench' });
    const pi = buildPiImage(dir, { seed: `bench-live-${run}` });
    await core.images.import({ path: pi.path }, { product: 'RXP2', version: '1', activate: true });
    await createUserService({ store: core.store, clock: () => new Date() }).create({
      username: 'bench',
      password: LIVE_PASSWORD,
      role: 'viewer',
    });
  } finally {
    await core.close();
  }

  const server = await spawnServe(loopbackServe(dir));
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const stop = () => {
    agent.destroy();
    server.child.kill('SIGTERM');
  };
  try {
    const device = new URL(server.device);
    const boards: EnrolledBoard[] = [];
    for (let i = 0; i < BOARDS; i++) {
      const { serial, macs } = simulatedIdentity(run, i);
      const r = await post(agent, device, '/v1/enroll', {
        serial,
        macs,
        storageBytes: 16 * 2 ** 30,
        venue: 'BNCH',
        product: 'RXP2',
      });
      if (r.status !== 200) throw new Error(`enroll failed: ${r.status} ${r.body}`);
      const e = JSON.parse(r.body) as {
        deploymentId: number;
        token: string;
        plan: { manifest: { sizeBytes: number } };
      };
      boards.push({ serial, deploymentId: e.deploymentId, token: e.token, bytesTotal: e.plan.manifest.sizeBytes });
    }
    return { device, management: new URL(server.management), agent, pid: server.child.pid!, boards, stop };
  } catch (cause) {
    stop();
    throw cause;
  }
}

export function post(
  agent: Agent,
  base: URL,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** CPU seconds (user + system) a process has used so far (bench/ui-live.ts uses it too). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A dashboard: an SSE stream whose progress events are timed against when they were due. */
function follow(
  base: URL,
  cookie: string,
  onProgress: (deploymentId: number, bytesDone: number, at: number) => void,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: base.hostname, port: base.port, path: '/api/v1/events', headers: { cookie } },
      (res) => {
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const at = performance.now();
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (!data || frame.startsWith('event:')) continue;
            const e = JSON.parse(data) as { type: string; data: { deploymentId: number; bytesDone: number } };
            if (e.type === 'deployment.progress') onProgress(e.data.deploymentId, e.data.bytesDone, at);
          }
        });
        resolve(res);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function run(dashboards: number): Promise<string> {
  const dir = tempDir('rpi-deploy-bench-live-');
  try {
    const { device, management, agent, pid, boards, stop } = await startLiveFleet(dir.path, 0xbe);
    try {
      const login = await post(agent, management, '/api/v1/auth/login', { username: 'bench', password: LIVE_PASSWORD });
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;

      const due = new Map<string, number>();
      const sentAt = new Map<string, number>();
      const latencies: number[] = [];
      const fromSend: number[] = [];
      const answered: number[] = [];
      const lag = monitorEventLoopDelay({ resolution: 10 });
      let received = 0;
      let measuring = false;
      const streams = await Promise.all(
        Array.from({ length: dashboards }, (_, k) =>
          follow(management, cookie, (id, bytes, at) => {
            if (k !== 0) return;
            const key = `${id}:${bytes}`;
            const t = due.get(key);
            if (t === undefined) return;
            due.delete(key);
            received++;
            if (measuring) {
              latencies.push(at - t);
              fromSend.push(at - (sentAt.get(key) ?? t));
            }
            sentAt.delete(key);
          }),
        ),
      );

      let failed = 0;
      let sent = 0;
      const pending: Promise<void>[] = [];
      const start = performance.now();
      const total = Math.round(BOARDS * REPORTS_PER_S * (WARMUP_S + DURATION_S));
      let cpuStart = 0;
      let wallStart = 0;
      for (let i = 0; i < total; i++) {
        const at = start + (i * 1000) / (BOARDS * REPORTS_PER_S);
        if (!measuring && at - start >= WARMUP_S * 1000) {
          measuring = true;
          cpuStart = cpuSeconds(pid);
          lag.enable();
          wallStart = performance.now();
        }
        const wait = at - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        const board = boards[i % BOARDS]!;
        const bytesDone = Math.floor(i / BOARDS) + 1;
        due.set(`${board.deploymentId}:${bytesDone}`, at);
        sentAt.set(`${board.deploymentId}:${bytesDone}`, performance.now());
        sent++;
        pending.push(
          post(
            agent,
            device,
            `/v1/deployments/${board.deploymentId}/progress`,
            {
              phase: 'writing',
              bytesWritten: bytesDone,
              bytesDone,
              bytesTotal: board.bytesTotal,
              rateBytesPerSec: 20_000_000,
              verifiedChunks: [],
            },
            { authorization: `Bearer ${board.token}` },
          ).then(
            (r) => {
              if (r.status !== 200) failed++;
              else if (measuring) answered.push(performance.now() - at);
            },
            () => void failed++,
          ),
        );
      }
      await Promise.all(pending);
      const cpu = cpuSeconds(pid) - cpuStart;
      const wall = (performance.now() - wallStart) / 1000;
      await new Promise((r) => setTimeout(r, 1000));
      for (const s of streams) s.destroy();

      lag.disable();
      const q = (xs: number[], p: number) =>
        (xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN).toFixed(0);
      return (
        `${BOARDS} boards × ${REPORTS_PER_S}/s, ${dashboards} dashboard(s): ${sent} reports (${failed} failed), ${received} reached the dashboard; ` +
        `latency from due p50 ${q(latencies, 0.5)} ms, p95 ${q(latencies, 0.95)} ms, p99 ${q(latencies, 0.99)} ms, max ${q(latencies, 1)} ms; ` +
        `from sent p50 ${q(fromSend, 0.5)} ms, p95 ${q(fromSend, 0.95)} ms; report answered (from due) p95 ${q(answered, 0.95)} ms; server CPU ${(cpu / wall).toFixed(2)} cores; ` +
        `load-generator event-loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms`
      );
    } finally {
      stop();
    }
  } finally {
    dir.remove();
  }
}

export async function benchLive(): Promise<string[]> {
  return [await run(1), await run(10)];
}
