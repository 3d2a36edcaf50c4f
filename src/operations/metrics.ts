import { statfs } from 'node:fs/promises';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus } from '../lib/event-bus.js';
import type { FleetEvent } from '../protocol/events.js';
import { DEPLOYMENT_STATUSES, type DeploymentStatus } from '../protocol/fleet.js';

/**
 * `/metrics` (issue 13): every metric rpi-deploy exposes, defined here and nowhere else. The other
 * components know nothing of Prometheus: what they count reaches this file as events on the one
 * stream (DHCP replies, deployment phases) or through the narrow calls below, which the
 * composition root hands them (bytes served, assignment latency, TFTP transfers).
 */

/** Where board-facing bytes leave: image chunks, TFTP, the runtime bundle, the seed's `GET /images/<file>`. */
export type ServedPath = 'chunks' | 'tftp' | 'runtime' | 'seed-image';
/** How a TFTP transfer ended: the whole file acknowledged, cut short, or the Pi's size probe. */
export type TftpEnd = 'completed' | 'failed' | 'probe';

export interface Metrics {
  /** The exposition text (Prometheus text format) and its content type, computed at each scrape. */
  scrape(): Promise<{ contentType: string; text: string }>;
  bytesServed(path: ServedPath, bytes: number): void;
  /** Bytes per second served to boards (every path) over the last few whole seconds, for the dashboard's link use. */
  servedBytesPerSecond(): number;
  /** From an enroll (`v1`) or config (`seed`) request's arrival to the reply that names the board. */
  assigned(contract: 'v1' | 'seed', seconds: number): void;
  tftpStarted(): void;
  tftpEnded(end: TftpEnd, bytes: number): void;
  /** Stops listening to the event stream. */
  close(): void;
}

export interface MetricsDeps {
  events: EventBus<FleetEvent>;
  /** Deployments by phase now, read from the database at each scrape. */
  deploymentCounts(): Promise<Partial<Record<DeploymentStatus, number>>>;
  dataDir: string;
}

/** Seconds the served-bytes rate is averaged over: long enough to smooth whole-response counting. */
const SERVED_RATE_WINDOW_S = 5;

/** Enroll takes milliseconds unless the database is contended; the upper buckets show contention. */
const ASSIGNMENT_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  // Process CPU, memory, file descriptors, GC and event-loop lag (nodejs_eventloop_lag_*).
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new Gauge({
    name: 'rpi_deploy_deployments',
    help: 'Deployments in the database by phase, at scrape time',
    labelNames: ['phase'],
    registers,
    async collect() {
      const counts = await deps.deploymentCounts();
      for (const phase of DEPLOYMENT_STATUSES) this.set({ phase }, counts[phase] ?? 0);
    },
  });
  const outcomes = new Counter({
    name: 'rpi_deploy_deployment_outcomes_total',
    help: 'Deployments that ended, by outcome (success or failed), since the server started',
    labelNames: ['outcome'],
    registers,
  });
  const served = new Counter({
    name: 'rpi_deploy_served_bytes_total',
    help: 'Bytes sent to boards: image chunks, TFTP, the runtime bundle, the seed image route (whole responses only)',
    labelNames: ['path'],
    registers,
  });
  const dhcp = new Counter({
    name: 'rpi_deploy_dhcp_replies_total',
    help: 'DHCP replies sent, by type (offer, ack)',
    labelNames: ['type'],
    registers,
  });
  const tftpStarted = new Counter({
    name: 'rpi_deploy_tftp_transfers_started_total',
    help: 'TFTP transfers started (a file opened for a read request), the Pi size probes included',
    registers,
  });
  const tftpEnded = new Counter({
    name: 'rpi_deploy_tftp_transfers_ended_total',
    help: 'TFTP transfers ended, by outcome: completed, failed, or probe (the Pi asked only for the size)',
    labelNames: ['outcome'],
    registers,
  });
  const assignment = new Histogram({
    name: 'rpi_deploy_assignment_seconds',
    help: 'Seconds from an enroll (v1) or config (seed) request to the reply that names the board',
    labelNames: ['contract'],
    buckets: ASSIGNMENT_BUCKETS_SECONDS,
    registers,
  });
  new Gauge({
    name: 'rpi_deploy_data_dir_free_bytes',
    help: 'Free bytes (for an unprivileged user) on the file system of the data directory, at scrape time',
    registers,
    async collect() {
      const s = await statfs(deps.dataDir);
      this.set(s.bavail * s.bsize);
    },
  });

  // Pre-set label values show a zero before the first event, so rate() and alerts have a series.
  for (const outcome of ['success', 'failed']) outcomes.inc({ outcome }, 0);
  for (const path of ['chunks', 'tftp', 'runtime', 'seed-image'] satisfies ServedPath[]) served.inc({ path }, 0);
  for (const type of ['offer', 'ack']) dhcp.inc({ type }, 0);
  for (const outcome of ['completed', 'failed', 'probe'] satisfies TftpEnd[]) tftpEnded.inc({ outcome }, 0);

  const unsubscribe = deps.events.subscribe((e) => {
    if (e.type === 'dhcp.offer') dhcp.inc({ type: 'offer' });
    else if (e.type === 'dhcp.ack') dhcp.inc({ type: 'ack' });
    else if (e.type === 'deployment.phase') {
      const { phase } = (e as FleetEvent<'deployment.phase'>).data;
      if (phase === 'success' || phase === 'failed') outcomes.inc({ outcome: phase });
    }
  });

  // Per-second buckets of served bytes: bounded memory whatever the request rate, unlike a list of samples.
  const buckets = new Array<number>(SERVED_RATE_WINDOW_S + 1).fill(0);
  let bucketSecond = Math.floor(Date.now() / 1000);
  function advance(): void {
    const second = Math.floor(Date.now() / 1000);
    for (let s = bucketSecond + 1; s <= Math.min(second, bucketSecond + buckets.length); s++)
      buckets[s % buckets.length] = 0;
    bucketSecond = Math.max(bucketSecond, second);
  }
  function countServed(path: ServedPath, bytes: number): void {
    served.inc({ path }, bytes);
    advance();
    buckets[bucketSecond % buckets.length]! += bytes;
  }

  return {
    async scrape() {
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
    bytesServed: countServed,
    servedBytesPerSecond() {
      advance();
      // The current second is still filling: the rate is over the whole seconds before it.
      const current = bucketSecond % buckets.length;
      const total = buckets.reduce((sum, b, i) => (i === current ? sum : sum + b), 0);
      return Math.round(total / SERVED_RATE_WINDOW_S);
    },
    assigned: (contract, seconds) => assignment.observe({ contract }, seconds),
    tftpStarted: () => tftpStarted.inc(),
    tftpEnded(end, bytes) {
      tftpEnded.inc({ outcome: end });
      countServed('tftp', bytes);
    },
    close: () => void unsubscribe(),
  };
}
