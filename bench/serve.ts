/**
 * Serving a fleet: 50 boards downloading at once from rpi-deploy (the used chunks, as stored:
 * zstd) against nginx 1.22 with sendfile serving the raw .img, on loopback, side by side in one
 * run. The figure that matters is image bytes delivered per second (a chunk delivers the raw
 * bytes it stands for; the unused chunks a board skips are never sent), and the server's CPU per
 * GB of image. The clients run in their own process. Also shown: the fallback for boards without
 * zstd (the server decompresses). Goal (issue 3): ≥ 2× nginx-raw. Usage: npm run bench -- serve
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openCore } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import type { EnrollReply } from '../src/protocol/agent-api.js';
import { loopbackServe, spawnServe } from '../test/helpers/cli.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { BENCH_DIR, largePiImage } from './large-pi-image.js';
import { cpuSecondsOf, fmt } from './proc.js';

const BOARDS = 50;
const DURATION_S = 10;
const CLIENTS = fileURLToPath(new URL('./download-clients.mjs', import.meta.url));

interface Delivery {
  imageBytes: number;
  wireBytes: number;
  seconds: number;
}

async function download(job: object, serverPids: () => number[]): Promise<Delivery & { cpuS: number }> {
  const file = join(BENCH_DIR, 'download-job.json');
  writeFileSync(file, JSON.stringify(job));
  const before = cpuSecondsOf(serverPids());
  const { stdout } = await promisify(execFile)(process.execPath, [CLIENTS, file], { maxBuffer: 1024 * 1024 });
  return { ...(JSON.parse(stdout) as Delivery), cpuS: cpuSecondsOf(serverPids()) - before };
}

function line(name: string, d: Delivery & { cpuS: number }): string {
  const imageGB = d.imageBytes / 1e9;
  return `${name.padEnd(44)} ${fmt(d.imageBytes / d.seconds / 1e6, 0).padStart(6)} MB/s of image  (${fmt(d.wireBytes / d.seconds / 1e6, 0)} MB/s on the wire)  server CPU ${fmt(d.cpuS / imageGB, 3)} s/GB of image`;
}

/** nginx with sendfile, as the seed ran it, serving the image's directory. */
async function startNginx(root: string, port: number): Promise<{ pids: () => number[]; stop(): void }> {
  const prefix = join(dirname(root), 'nginx');
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes auto; user root; pid ${prefix}/nginx.pid; error_log ${prefix}/logs/error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  server { listen 127.0.0.1:${port}; root ${root}; } }\n`,
  );
  const master = spawn('nginx', ['-c', conf, '-p', prefix, '-g', 'daemon off;'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const pids = () => [
    master.pid!,
    ...execFileSync('pgrep', ['-P', String(master.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number),
  ];
  return { pids, stop: () => master.kill('SIGQUIT') };
}

export async function benchServe(): Promise<string[]> {
  const image = largePiImage();
  const data = tempDir('rpi-deploy-bench-');
  const lines: string[] = [
    `${BOARDS} boards at once for ${DURATION_S} s each, image ${fmt(image.sizeBytes / 1024 ** 3)} GiB`,
  ];
  try {
    const core = await openCore(loadConfig({ flags: { dataDir: data.path } }), createLogger('silent'));
    await core.fleet.venues.create({ code: 'BNCH', name: 'Bench' });
    await core.fleet.pools.import({ venue: 'BNCH', text: `1-${BOARDS}` });
    await core.images.import({ path: image.path }, { product: 'KXP2', version: 'bench', activate: true });
    await core.close();
    const server = await spawnServe(loopbackServe(data.path));
    const port = Number(new URL(server.device).port) + 1;
    const nginx = await startNginx(dirname(image.path), port);
    try {
      const boards: EnrollReply[] = [];
      for (let i = 0; i < BOARDS; i++) {
        const res = await fetch(`${server.device}/v1/enroll`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            serial: (0x5e500000 + i).toString(16),
            macs: [],
            storageBytes: 64e9,
            venue: 'BNCH',
            product: 'KXP2',
          }),
        });
        boards.push((await res.json()) as EnrollReply);
      }
      const clients = boards.map((b) => ({
        deploymentId: b.deploymentId,
        token: b.token,
        chunks: b.plan.manifest.chunks.filter((c) => c.used).map((c) => ({ index: c.index, sizeBytes: c.sizeBytes })),
      }));
      // Warm the page cache for both: the store's chunks and the raw image.
      execFileSync('cat', [image.path], { stdio: ['ignore', 'ignore', 'ignore'] });
      execFileSync('sh', ['-c', `find ${join(data.path, 'images')} -type f -exec cat {} + > /dev/null`]);

      const ngx = await download(
        {
          mode: 'file',
          base: `http://127.0.0.1:${port}`,
          durationS: DURATION_S,
          clients: boards.map(() => ({ path: `/${basename(image.path)}` })),
        },
        nginx.pids,
      );
      lines.push(line('nginx sendfile, raw .img', ngx));
      const ours = await download(
        { mode: 'chunks', base: server.device, encoding: 'zstd', durationS: DURATION_S, clients },
        () => [server.child.pid!],
      );
      lines.push(line('rpi-deploy, used chunks as stored (zstd)', ours));
      const raw = await download(
        { mode: 'chunks', base: server.device, encoding: 'identity', durationS: DURATION_S, clients },
        () => [server.child.pid!],
      );
      lines.push(line('rpi-deploy, used chunks decompressed', raw));
      const rate = (d: Delivery) => d.imageBytes / d.seconds;
      lines.push(
        `ratio image bytes/s: zstd chunks ${fmt(rate(ours) / rate(ngx))}× nginx-raw (goal ≥ 2), decompressed ${fmt(rate(raw) / rate(ngx))}× nginx-raw`,
      );
      return lines;
    } finally {
      nginx.stop();
      server.child.kill('SIGTERM');
    }
  } finally {
    data.remove();
  }
}
