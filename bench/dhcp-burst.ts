/**
 * A venue switching on: 200 boards send DISCOVER within one second, each then REQUESTs its
 * offer. rpi-deploy (`serve` from the build, full mode) and dnsmasq (`--no-ping`), each alone on
 * the same namespace LAN, answer the same bursts from the same client. No retransmissions, so
 * "answered" is honest. Reported per server: answered, OFFER and ACK latency p50/p99 (from each
 * client's DISCOVER), server CPU per burst; then the ratios. Usage: npm run bench -- dhcp-burst
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { BurstOptions, BurstResult } from '../test/helpers/dhcp-burst.js';
import { DhcpLab } from '../test/helpers/dhcp-lab.js';

const BURST = fileURLToPath(new URL('../test/helpers/dhcp-burst.ts', import.meta.url));
const CLIENTS = 200;
const ROUNDS = 4; // the first warms up (JIT, page cache) and is not reported

interface Figures {
  answered: number[];
  offer: number[];
  ack: number[];
  cpuMs: number[];
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime in clock ticks (USER_HZ 100)
}

async function bursts(lab: DhcpLab, venue: string, server: ChildProcess, tag: number): Promise<Figures> {
  const f: Figures = { answered: [], offer: [], ack: [], cpuMs: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const o: BurstOptions = {
      clients: CLIENTS,
      spreadMs: 1000,
      macPrefix: `02:${tag}:00:${round.toString(16).padStart(2, '0')}:`,
      timeoutMs: 5000,
      retryMs: 0,
    };
    const cpuBefore = cpuMs(server.pid!);
    const run = await lab.run(venue, [process.execPath, '--import', 'tsx', BURST, JSON.stringify(o)], 60_000);
    if (run.code !== 0) throw new Error(run.stderr);
    const r = JSON.parse(run.stdout) as BurstResult;
    if (round === 0) continue;
    f.cpuMs.push(cpuMs(server.pid!) - cpuBefore);
    f.answered.push(r.acked);
    f.offer.push(...r.offerMs);
    f.ack.push(...r.ackMs);
  }
  return f;
}

function line(name: string, f: Figures): string {
  return `${name.padEnd(11)} answered ${f.answered.join('/')} of ${CLIENTS}; OFFER p50 ${pct(f.offer, 50).toFixed(1)} ms p99 ${pct(f.offer, 99).toFixed(1)} ms; ACK p50 ${pct(f.ack, 50).toFixed(1)} ms p99 ${pct(f.ack, 99).toFixed(1)} ms; server CPU ${(f.cpuMs.reduce((a, b) => a + b, 0) / f.cpuMs.length).toFixed(0)} ms/burst`;
}

export async function benchDhcpBurst(): Promise<string[]> {
  const lab = new DhcpLab(16);
  try {
    const venue = lab.lab.namespace('venue');
    lab.plug(venue, 'eth0', '198.18.0.2/16');

    const served = await lab.serve(
      {
        dhcp: {
          mode: 'full',
          range: { start: '198.18.1.0', end: '198.18.8.255' },
          foreignServer: { probeMs: 300, recheckSeconds: 0 },
        },
      },
      [],
      'info',
    );
    const ours = await bursts(lab, venue, served.child, 0x42);
    await served.stop();

    const dnsmasq = await lab.siteDhcp('peer', {
      cidr: '198.18.0.254/16',
      range: '198.18.16.0,198.18.23.255,255.255.0.0,12h',
      log: false,
    });
    const theirs = await bursts(lab, venue, dnsmasq, 0x43);

    const ratio = (a: number[], b: number[], p: number) => (pct(a, p) / pct(b, p)).toFixed(2);
    return [
      `${CLIENTS} DISCOVERs within 1 s, ${ROUNDS - 1} measured bursts each (after one warm-up), no retransmissions`,
      line('rpi-deploy', ours),
      line('dnsmasq', theirs),
      `ratios rpi-deploy/dnsmasq: OFFER p50 ${ratio(ours.offer, theirs.offer, 50)}× p99 ${ratio(ours.offer, theirs.offer, 99)}×; ACK p50 ${ratio(ours.ack, theirs.ack, 50)}× p99 ${ratio(ours.ack, theirs.ack, 99)}×; CPU ${(ours.cpuMs.reduce((a, b) => a + b) / theirs.cpuMs.reduce((a, b) => a + b)).toFixed(1)}×`,
    ];
  } finally {
    await lab.destroy();
  }
}
