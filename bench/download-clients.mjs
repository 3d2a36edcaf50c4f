// Download clients for bench/serve.ts, in their own process so their CPU is not the server's.
// argv[2] names a JSON file holding the job: { mode: 'chunks' | 'file', base, durationS, clients: [...] }.
//   chunks: each client { deploymentId, token, chunks: [{ index, sizeBytes }] } fetches its used
//           chunks in order, again and again, as stored (zstd) or raw ('encoding');
//   file:   each client { path } downloads the whole raw image, again and again.
// Prints { imageBytes, wireBytes, seconds }: image bytes are the raw bytes the completed chunks
// stand for, or every byte of the file received.
import { readFileSync } from 'node:fs';
import http from 'node:http';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const base = new URL(job.base);
const deadline = performance.now() + job.durationS * 1000;
let imageBytes = 0;
let wireBytes = 0;

/** Resolves with the body's size, or 0 when the deadline cut it. */
function get(agent, path, headers) {
  return new Promise((resolve, reject) => {
    const failed = (e) => (performance.now() > deadline ? resolve(0) : reject(e));
    const req = http.request({ host: base.hostname, port: base.port, path, headers, agent }, (res) => {
      let n = 0;
      res.on('data', (d) => {
        n += d.length;
        wireBytes += d.length;
        if (job.mode === 'file') imageBytes += d.length;
        if (performance.now() > deadline) req.destroy();
      });
      res.on('end', () =>
        res.statusCode < 300 ? resolve(n) : reject(new Error(`HTTP ${res.statusCode} for ${path}`)),
      );
      res.on('error', failed);
    });
    req.on('error', failed);
    req.end();
  });
}

async function client(c) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  while (performance.now() < deadline) {
    if (job.mode === 'file') {
      await get(agent, c.path, {});
      continue;
    }
    for (const chunk of c.chunks) {
      if (performance.now() > deadline) break;
      const n = await get(agent, `/v1/deployments/${c.deploymentId}/chunks/${chunk.index}`, {
        authorization: `Bearer ${c.token}`,
        'accept-encoding': job.encoding,
      });
      if (n > 0 && performance.now() <= deadline) imageBytes += chunk.sizeBytes;
    }
  }
  agent.destroy();
}

const started = performance.now();
await Promise.all(job.clients.map(client));
process.stdout.write(
  `${JSON.stringify({ imageBytes, wireBytes, seconds: Math.min(performance.now(), deadline) / 1000 - started / 1000 })}\n`,
);
