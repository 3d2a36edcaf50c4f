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
 * Target: loaded ≤ 1.2× alone (p99 latency, and throughput the other way round).
 * Usage: npm run bench -- isolation
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { openCore } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import { createUserService } from '../src/management/index.js';
import { spawnServe } from '../test/helpers/cli.js';
import { buildPiImage } from '../test/helpers/pi-image.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { post } from './live.js';
import { openLoop } from './open-loop.js';
import { fmt } from './proc.js';

const STREAMS = 200;
const ROUNDS = 3;
const PHASE_S = 5;
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
  configPerS: number;
  configFailed: number;
  imageMiBPerS: number;
  slowestImageS: number;
  imagesCut: number;
  logins: Record<string, number>;
  streamBytes: number;
}

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
): Promise<{ stop(): Promise<{ logins: Record<string, number>; streamBytes: number }> }> {
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
    const server = await spawnServe([
      '--data-dir',
      dir.path,
      '--device-listen',
      '127.0.0.1:0',
      '--management-listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ]);
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
      const phase = async (loaded: boolean): Promise<Phase> => {
        const load = loaded ? await startManagementLoad(server.management, cookie, floodAddress) : undefined;
        floodAddress += FLOOD_MAX;
        const config = await openLoop({
          url: `${server.device}/api/config`,
          ratePerS: CONFIG_PER_S,
          durationS: PHASE_S,
          connections: CONFIG_CONNECTIONS,
          body,
        });
        const images = await fetchImages(device, imagePath, IMAGE_CLIENTS, PHASE_S);
        const management = (await load?.stop()) ?? { logins: {}, streamBytes: 0 };
        return {
          p99Ms: config.p99Ms,
          configPerS: config.ok / config.durationS,
          configFailed: config.failed,
          imageMiBPerS: images.bytesPerS / MiB,
          slowestImageS: images.slowestS,
          imagesCut: images.cut,
          ...management,
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
      const show = (name: string, p: Phase) =>
        `  ${name}: config p99 ${fmt(p.p99Ms, 1)} ms (${p.configPerS.toFixed(0)}/s, ${p.configFailed} failed); ` +
        `images ${fmt(p.imageMiBPerS, 0)} MiB/s, slowest GET ${fmt(p.slowestImageS)} s${p.imagesCut ? ` (${p.imagesCut} cut unfinished)` : ''}` +
        (p.streamBytes
          ? `; ${STREAMS} streams got ${fmt(p.streamBytes / MiB, 1)} MiB; logins by status ${JSON.stringify(p.logins)}`
          : '');
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which half goes first, so a trend on the machine does not favour one side.
        const [alone, loaded] =
          round % 2 === 0 ? [await phase(false), await phase(true)] : [undefined, await phase(true)];
        const a = alone ?? (await phase(false));
        ratios.p99.push(loaded.p99Ms / a.p99Ms);
        ratios.image.push(a.imageMiBPerS / loaded.imageMiBPerS);
        lines.push(`round ${round + 1}`, show('alone ', a), show('loaded', loaded));
        process.stderr.write(`${lines.slice(-3).join('\n')}\n`);
      }
      const range = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}×`;
      lines.push(`loaded/alone: config p99 ${range(ratios.p99)}, image time ${range(ratios.image)} (target ≤ 1.20×)`);
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
