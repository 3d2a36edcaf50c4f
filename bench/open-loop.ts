import { Agent, request } from 'node:http';

/** Result of an open-loop run: latencies are measured from when each request was due. */
export interface OpenLoopResult {
  sent: number;
  ok: number;
  failed: number;
  durationS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Every answered request's latency, ascending (for pooling runs). */
  latenciesMs: number[];
}

/**
 * Offers a fixed request rate regardless of how fast the server answers (clients of a venue do
 * not wait for each other). Latency counts from the moment a request was due, so time spent
 * queued behind busy connections is included: no coordinated omission.
 */
export async function openLoop(o: {
  url: string;
  ratePerS: number;
  durationS: number;
  connections: number;
  body: (i: number) => unknown;
}): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const target = new URL(o.url);
  const total = Math.round(o.ratePerS * o.durationS);
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const start = performance.now();

  const one = (i: number, due: number) =>
    new Promise<void>((resolve) => {
      const payload = JSON.stringify(o.body(i));
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - due);
            if (res.statusCode === 200) ok++;
            else failed++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end(payload);
    });

  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / o.ratePerS;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(one(i, due));
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN;
  return {
    sent: total,
    ok,
    failed,
    durationS: (performance.now() - start) / 1000,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: latencies.at(-1) ?? NaN,
    latenciesMs: latencies,
  };
}
