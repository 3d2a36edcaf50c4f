// Management load for bench/isolation.ts, in its own process so that reading 200 event streams
// does not delay the measuring client's own event loop.
// argv[2] is a JSON job: { base, cookie, streams, floodConnections, floodMax, firstAddress, graceS }.
// Opens `streams` live streams (reading and counting everything), then sends bogus logins from
// `floodConnections` loops, each from its own 127.x address and for its own unknown user, so no
// rate limit spares the hash. Prints "ready" once the streams are open; on SIGTERM stops the flood,
// waits for the logins in flight (at most graceS) and prints { logins, streamBytes } as JSON.
import http from 'node:http';

const job = JSON.parse(process.argv[2]);
const base = new URL(job.base);
let streamBytes = 0;
const logins = {};
let running = true;
let sent = 0;

function openStream() {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, path: '/api/v1/events', headers: { cookie: job.cookie }, agent: false },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`events: HTTP ${res.statusCode}`));
        res.on('data', (d) => (streamBytes += d.length));
        res.on('error', () => undefined);
        resolve(req);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function login(n) {
  return new Promise((resolve) => {
    const a = job.firstAddress + n;
    const payload = JSON.stringify({ username: `nobody${a}`, password: 'wrong guess' });
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: '/api/v1/auth/login',
        method: 'POST',
        localAddress: `127.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}`,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        logins[res.statusCode] = (logins[res.statusCode] ?? 0) + 1;
        res.resume();
        res.on('end', resolve);
      },
    );
    req.setTimeout(job.graceS * 1000, () => req.destroy());
    req.on('error', () => {
      logins.unanswered = (logins.unanswered ?? 0) + 1;
      resolve();
    });
    req.end(payload);
  });
}

const streams = await Promise.all(Array.from({ length: job.streams }, openStream));
process.stdout.write('ready\n');
const loops = Array.from({ length: job.floodConnections }, async () => {
  while (running && sent < job.floodMax) await login(sent++);
});
process.once('SIGTERM', async () => {
  running = false;
  await Promise.all(loops);
  for (const s of streams) s.destroy();
  process.stdout.write(`${JSON.stringify({ logins, streamBytes })}\n`);
  process.exit(0);
});
