import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Packets as they appear on the wire, captured with tcpdump (pcap on stdout, parsed here): what a
 * client without an IP address sees, including broadcasts to a subnet it is not configured for.
 */

export interface CapturedUdp {
  ethDst: string;
  ipSrc: string;
  ipDst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export interface Capture {
  packets: CapturedUdp[];
  /** Resolves with the first packet (already captured or future) that satisfies `match`. */
  waitFor(match: (p: CapturedUdp) => boolean, timeoutMs: number): Promise<CapturedUdp | undefined>;
  stop(): Promise<void>;
}

const ip = (b: Buffer, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
const mac = (b: Buffer, o: number) => [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** Starts tcpdump on `iface` (inside `netns` when given) and resolves once it is listening. */
export async function startCapture(o: { iface: string; filter: string; netns?: string }): Promise<Capture> {
  const argv = ['tcpdump', '-i', o.iface, '-n', '-U', '--immediate-mode', '-s', '2048', '-w', '-', o.filter];
  const child: ChildProcess = o.netns
    ? spawn('ip', ['netns', 'exec', o.netns, ...argv])
    : spawn(argv[0]!, argv.slice(1));
  const packets: CapturedUdp[] = [];
  const waiters = new Set<{ match: (p: CapturedUdp) => boolean; resolve: (p: CapturedUdp | undefined) => void }>();
  let pending = Buffer.alloc(0);
  let headerSeen = false;
  let stderr = '';

  child.stdout!.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    if (!headerSeen) {
      if (pending.length < 24) return;
      pending = pending.subarray(24);
      headerSeen = true;
    }
    while (pending.length >= 16) {
      const caplen = pending.readUInt32LE(8);
      if (pending.length < 16 + caplen) break;
      const frame = pending.subarray(16, 16 + caplen);
      pending = pending.subarray(16 + caplen);
      const p = parseFrame(frame);
      if (!p) continue;
      packets.push(p);
      for (const w of waiters) {
        if (w.match(p)) {
          waiters.delete(w);
          w.resolve(p);
        }
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited (${code}): ${stderr}`)));
  });

  return {
    packets,
    waitFor(match, timeoutMs) {
      const seen = packets.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          if (waiters.delete(w)) resolve(undefined);
        }, timeoutMs);
        const w = {
          match,
          resolve: (p: CapturedUdp | undefined) => {
            clearTimeout(timer);
            resolve(p);
          },
        };
        waiters.add(w);
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      // tcpdump flushes on SIGINT; give the last packets a moment to be parsed.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGINT');
      });
    },
  };
}

function parseFrame(f: Buffer): CapturedUdp | undefined {
  if (f.length < 14 + 20 + 8 || f.readUInt16BE(12) !== 0x0800) return undefined;
  const ihl = (f[14]! & 0x0f) * 4;
  if (f[14 + 9] !== 17) return undefined;
  const udp = 14 + ihl;
  const length = f.readUInt16BE(udp + 4);
  return {
    ethDst: mac(f, 0),
    ipSrc: ip(f, 14 + 12),
    ipDst: ip(f, 14 + 16),
    srcPort: f.readUInt16BE(udp),
    dstPort: f.readUInt16BE(udp + 2),
    payload: Buffer.from(f.subarray(udp + 8, udp + length)),
  };
}
