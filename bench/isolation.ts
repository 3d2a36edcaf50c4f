/**
 * The device side under management load (issue 12 item 2). The real server in its own process on
 * loopback; the device side measured alone and next to management load, in alternated pairs so
 * that drift from other work on the machine falls on both sides:
 * - `POST /api/config` latency: open loop (latency from when each request was due), every request
 *   a new board, so each one also publishes events to every live stream;
 * - image throughput: clients fetching `GET /images/<file>` (the seed route) back to back, and the
 *   slowest whole-image GET.
 * Management load, from its own process (bench/management-load.mjs): STREAMS signed-in
 * `GET /api/v1/events` streams plus a flood of bogus logins, each from its own loopback address
 * and for its own unknown user, so no rate limit spares the hash.
 * Target: loaded ≤ 1.2× alone (p99 latency, and throughput the other way round), judged on the
 * median over rounds; the worst round and the p99 of all rounds' samples pooled are printed next
 * to it, with the sample counts. Per phase it also prints where the processors went: the server's
 * main thread (the one event loop of both listeners) on a CPU and waiting for one, the server's
 * other threads, and the load process, so a slow phase on a busy machine shows as such.
 * Usage: npm run bench -- isolation (about 4 minutes); the last line is the verdict.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { openCore } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import { createUserService } from '../src/management/index.js';
import { loopbackServe, spawnServe } from '../test/helpers/cli.js';
import { buildPiImage } from '../test/helpers/pi-image.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { post } from './live.js';
import { openLoop } from './open-loop.js';
import { cpuSecondsOf, fmt, mainThreadSchedOf } from './proc.js';

const STREAMS = 200;
/** 6 rounds of 6 s at 50/s: 300 latencies per phase, 1800 per side pooled (p99 then rests on 18 samples, not 3). */
const ROUNDS = 6;
const PHASE_S = 6;
const TARGET = 1.2;
/** Requests still unanswered this long after their phase are cut and counted as such. */
const GRACE_S = 20;
const CONFIG_PER_S = 50;
const CONFIG_CONNECTIONS = 200;
const IMAGE_CLIENTS = 4;
const FLOOD_CONNECTIONS = 16;
/** Upper bound on bogus logins per phase, whatever the server's speed. */
const FLOOD_MAX = 4000;
const PASSWORD = 'isolation load secret 7';
const MiB = 1024 * 1024;
const LOAD_SCRIPT = fileURLToPath(new URL('./management-load.mjs', import.meta.url));

interface Phase {
  p99Ms: number;
  latenciesMs: number[];
  configPerS: number;
  configFailed: number;
  imageMiBPerS: number;
  slowestImageS: number;
  imagesCut: number;
  logins: Record<string, number>;
  streamBytes: number;
  wallS: number;
  /** The server's main thread: seconds on a CPU, and runnable but waiting for one. */
  mainRunS: number;
  mainWaitS: number;
  /** The server's other threads (hashing, file reads, checkpoints), CPU seconds. */
  otherThreadsCpuS: number;
  loadCpuS: number;
}

/** The q-quantile of ascending samples, as the open loop takes it. */
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
const median = (xs: number[]) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

const serialOf = (n: number) => (0x30000000 + n).toString(16).padStart(8, '0');

/** Whole-image GETs back to back from `clients` connections for `durationS`. */
async function fetchImages(
  base: URL,
  path: string,
  clients: number,
  durationS: number,
): Promise<{ bytesPerS: number; slowestS: number; cut: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const until = performance.now() + durationS * 1000;
  const start = performance.now();
  let bytes = 0;
  let slowestS = 0;
  let cut = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const began = performance.now();
      const req = request({ agent, host: base.hostname, port: base.port, path }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode}`));
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => {
          slowestS = Math.max(slowestS, (performance.now() - began) / 1000);
          resolve();
        });
      });
      req.setTimeout(Math.max(1, until + GRACE_S * 1000 - performance.now()), () => {
        cut++;
        slowestS = Math.max(slowestS, (performance.now() - began) / 1000);
        req.destroy();
        resolve();
      });
      req.on('error', (err) => (req.destroyed && cut > 0 ? resolve() : reject(err)));
      req.end();
    });
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) await one();
    }),
  );
  agent.destroy();
  return { bytesPerS: bytes / ((performance.now() - start) / 1000), slowestS, cut };
}

/** The management load in its own process (bench/management-load.mjs); resolves once its streams are open. */
async function startManagementLoad(
  management: string,
  cookie: string,
  firstAddress: number,
): Promise<{ pid: number; stop(): Promise<{ logins: Record<string, number>; streamBytes: number }> }> {
  const job = {
    base: management,
    cookie,
    streams: STREAMS,
    floodConnections: FLOOD_CONNECTIONS,
    floodMax: FLOOD_MAX,
    firstAddress,
    graceS: GRACE_S,
  };
  const child = spawn(process.execPath, [LOAD_SCRIPT, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      if (out.startsWith('ready\n')) resolve();
    });
    exited.then((code) => reject(new Error(`management load exited with ${code} before it was ready`)), reject);
  });
  return {
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`management load exited with ${code}`);
      return JSON.parse(out.slice('ready\n'.length)) as { logins: Record<string, number>; streamBytes: number };
    },
  };
}

export async function benchIsolation(): Promise<string[]> {
  const dir = tempDir('rpi-deploy-bench-isolation-');
  try {
    const core = await openCore(loadConfig({ flags: { dataDir: dir.path } }), createLogger('silent'));
    let imagePath: string;
    try {
      await core.fleet.venues.create({ code: 'BNCH', name: 'Bench' });
      await core.fleet.pools.import({ venue: 'BNCH', text: '1-100000' });
      const pi = buildPiImage(dir.path, { seed: 'bench-isolation' });
      const image = await core.images.import({ path: pi.path }, { product: 'KXP2', version: '1', activate: true });
      imagePath = `/images/${image.product}-${image.version}.img`;
      await createUserService({ store: core.store, clock: () => new Date() }).create({
        username: 'bench',
        password: PASSWORD,
        role: 'viewer',
      });
    } finally {
      await core.close();
    }
    const server = await spawnServe(loopbackServe(dir.path));
    try {
      const device = new URL(server.device);
      const loginAgent = new Agent({ keepAlive: false });
      const login = await post(loginAgent, new URL(server.management), '/api/v1/auth/login', {
        username: 'bench',
        password: PASSWORD,
      });
      if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.body}`);
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;

      let boards = 0;
      let floodAddress = 0x010000;
      const body = () => ({ product_type: 'KXP2', venue_code: 'BNCH', serial_number: serialOf(boards++) });
      const serverPid = server.child.pid!;
      const phase = async (loaded: boolean): Promise<Phase> => {
        const load = loaded ? await startManagementLoad(server.management, cookie, floodAddress) : undefined;
        floodAddress += FLOOD_MAX;
        const began = { at: performance.now(), main: mainThreadSchedOf(serverPid), cpuS: cpuSecondsOf([serverPid]) };
        const loadCpuS = load ? cpuSecondsOf([load.pid]) : 0;
        const config = await openLoop({
          url: `${server.device}/api/config`,
          ratePerS: CONFIG_PER_S,
          durationS: PHASE_S,
          connections: CONFIG_CONNECTIONS,
          body,
        });
        const images = await fetchImages(device, imagePath, IMAGE_CLIENTS, PHASE_S);
        const main = mainThreadSchedOf(serverPid);
        const cpuS = cpuSecondsOf([serverPid]) - began.cpuS;
        const loadUsedS = load ? cpuSecondsOf([load.pid]) - loadCpuS : 0;
        const management = (await load?.stop()) ?? { logins: {}, streamBytes: 0 };
        return {
          p99Ms: config.p99Ms,
          latenciesMs: config.latenciesMs,
          configPerS: config.ok / config.durationS,
          configFailed: config.failed,
          imageMiBPerS: images.bytesPerS / MiB,
          slowestImageS: images.slowestS,
          imagesCut: images.cut,
          ...management,
          wallS: (performance.now() - began.at) / 1000,
          mainRunS: main.runS - began.main.runS,
          mainWaitS: main.waitS - began.main.waitS,
          otherThreadsCpuS: Math.max(0, cpuS - (main.runS - began.main.runS)),
          loadCpuS: loadUsedS,
        };
      };

      // Warm-up (JIT, page cache), not counted.
      await openLoop({
        url: `${server.device}/api/config`,
        ratePerS: CONFIG_PER_S,
        durationS: 2,
        connections: CONFIG_CONNECTIONS,
        body,
      });
      await fetchImages(device, imagePath, IMAGE_CLIENTS, 2);

      const lines: string[] = [];
      const ratios: { p99: number[]; image: number[] } = { p99: [], image: [] };
      const pooled: { alone: number[]; loaded: number[] } = { alone: [], loaded: [] };
      const waitShare: { alone: number[]; loaded: number[] } = { alone: [], loaded: [] };
      const show = (name: string, p: Phase) =>
        `  ${name}: config p99 ${fmt(p.p99Ms, 1)} ms of ${p.latenciesMs.length} ` +
        `(${p.configPerS.toFixed(0)}/s, ${p.configFailed} failed); ` +
        `images ${fmt(p.imageMiBPerS, 0)} MiB/s, slowest GET ${fmt(p.slowestImageS)} s` +
        (p.imagesCut ? ` (${p.imagesCut} cut unfinished)` : '') +
        (p.streamBytes
          ? `; ${STREAMS} streams got ${fmt(p.streamBytes / MiB, 1)} MiB; logins by status ${JSON.stringify(p.logins)}`
          : '') +
        `\n           server main thread ${fmt((p.mainRunS / p.wallS) * 100, 0)}% on a CPU, ` +
        `${fmt((p.mainWaitS / p.wallS) * 100, 0)}% waiting for one; other server threads ` +
        `${fmt((p.otherThreadsCpuS / p.wallS) * 100, 0)}% CPU` +
        (p.loadCpuS ? `; load process ${fmt((p.loadCpuS / p.wallS) * 100, 0)}% CPU` : '');
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which half goes first, so a trend on the machine does not favour one side.
        const [alone, loaded] =
          round % 2 === 0 ? [await phase(false), await phase(true)] : [undefined, await phase(true)];
        const a = alone ?? (await phase(false));
        ratios.p99.push(loaded.p99Ms / a.p99Ms);
        ratios.image.push(a.imageMiBPerS / loaded.imageMiBPerS);
        pooled.alone.push(...a.latenciesMs);
        pooled.loaded.push(...loaded.latenciesMs);
        waitShare.alone.push(a.mainWaitS / a.wallS);
        waitShare.loaded.push(loaded.mainWaitS / loaded.wallS);
        lines.push(
          `round ${round + 1}: loaded/alone config p99 ${fmt(ratios.p99.at(-1)!)}×, image time ${fmt(ratios.image.at(-1)!)}×`,
          show('alone ', a),
          show('loaded', loaded),
        );
        process.stderr.write(`${lines.slice(-3).join('\n')}\n`);
      }
      const sort = (xs: number[]) => [...xs].sort((x, y) => x - y);
      const pooledP99 = { alone: quantile(sort(pooled.alone), 0.99), loaded: quantile(sort(pooled.loaded), 0.99) };
      const verdict = { p99: median(ratios.p99), image: median(ratios.image) };
      const met = verdict.p99 <= TARGET && verdict.image <= TARGET;
      lines.push(
        `config p99, all rounds pooled: alone ${fmt(pooledP99.alone, 1)} ms of ${pooled.alone.length} samples, ` +
          `loaded ${fmt(pooledP99.loaded, 1)} ms of ${pooled.loaded.length}: ` +
          `${fmt(pooledP99.loaded / pooledP99.alone)}×`,
        `server main thread waiting for a CPU (median over rounds): alone ${fmt(median(waitShare.alone) * 100, 0)}%, ` +
          `loaded ${fmt(median(waitShare.loaded) * 100, 0)}% of the time` +
          (median(waitShare.alone) > 0.1 ? ' — the machine was busy; the ratios are not reliable' : ''),
        `verdict: ${met ? 'MET' : 'NOT MET'}: loaded/alone over ${ROUNDS} rounds (${PHASE_S} s phases), ` +
          `config p99 median ${fmt(verdict.p99)}× (worst ${fmt(Math.max(...ratios.p99))}×), ` +
          `image time median ${fmt(verdict.image)}× (worst ${fmt(Math.max(...ratios.image))}×); ` +
          `target ≤ ${fmt(TARGET)}× for both medians`,
      );
      return lines;
    } finally {
      // A server still busy with a backlog of hashes may take long to stop; the figures are in.
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      server.child.kill('SIGKILL');
    }
  } finally {
    dir.remove();
  }
}
