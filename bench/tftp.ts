/**
 * TFTP throughput and server CPU, side by side: rpi-deploy (`serve` from the build, TFTP only),
 * dnsmasq (lock-step; it has no RFC 7440 windows) and, with windowsize 16, atftpd. Each server
 * runs alone in the same namespace on port 69 of the deployment address; the clients (curl for
 * lock-step, atftp for windows) run N at once in a second namespace on the same switch, each
 * reading the whole file; each case is repeated until about 100 MiB have moved. Reported:
 * aggregate MB/s and server CPU seconds per GB, then ratios.
 * Usage: npm run bench -- tftp
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { DhcpLab, SERVER_ADDRESS } from '../test/helpers/dhcp-lab.js';

const MIB = 1024 * 1024;
/** Boot-tree names, so rpi-deploy serves them from its boot-files directory. */
const FILES = [
  { name: 'kernel_2712.img', bytes: 10 * MIB },
  { name: 'kernel8.img', bytes: 30 * MIB },
];
const CLIENTS = [1, 10, 20];

interface Run {
  mbps: number;
  cpuSPerGb: number;
  ok: boolean;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, USER_HZ 100
}

/** N clients at once; the shell times them and prints each received size. */
function clientScript(n: number, file: string, blksize: number, windowsize: number | null, scratch: string): string {
  const one = (i: number) =>
    windowsize === null
      ? `curl -s -o /dev/null -w '%{size_download}\\n' --tftp-blksize ${blksize} tftp://${SERVER_ADDRESS}/${file}`
      : `atftp -g -r ${file} -l ${scratch}/c${i} --option "blksize ${blksize}" --option "windowsize ${windowsize}" ${SERVER_ADDRESS} 2>/dev/null; stat -c %s ${scratch}/c${i}; rm -f ${scratch}/c${i}`;
  return `s=$(date +%s.%N); ${Array.from({ length: n }, (_, i) => `(${one(i)}) &`).join(' ')} wait; e=$(date +%s.%N); echo "T $s $e"`;
}

/**
 * A case is repeated until it has moved about MEASURED_BYTES, so small cases (one client, 10 MiB)
 * are not lost in /proc's 10 ms CPU ticks: one 10 MiB transfer is 40-50 ms of server CPU.
 */
const MEASURED_BYTES = 100 * MIB;

async function measure(
  lab: DhcpLab,
  venue: string,
  pid: number,
  file: (typeof FILES)[number],
  n: number,
  blksize: number,
  windowsize: number | null,
): Promise<Run> {
  const rounds = Math.max(1, Math.round(MEASURED_BYTES / (n * file.bytes)));
  const before = cpuSeconds(pid);
  let wallS = 0;
  let ok = true;
  for (let round = 0; round < rounds; round++) {
    const r = await lab.run(venue, ['sh', '-c', clientScript(n, file.name, blksize, windowsize, '/dev/shm')], 600_000);
    const lines = r.stdout.trim().split('\n');
    const [, s, e] = lines.pop()!.split(' ').map(Number) as [number, number, number];
    wallS += e - s;
    ok &&= lines.filter((l) => Number(l) === file.bytes).length === n;
  }
  const cpu = cpuSeconds(pid) - before;
  const bytes = rounds * n * file.bytes;
  return { mbps: bytes / 1e6 / wallS, cpuSPerGb: cpu / (bytes / 1e9), ok };
}

interface Server {
  name: string;
  start(): Promise<ChildProcess>;
  stop(child: ChildProcess): Promise<void>;
}

const fmt = (r: Run) =>
  `${r.mbps.toFixed(1).padStart(6)} MB/s ${r.cpuSPerGb.toFixed(2).padStart(5)} CPU-s/GB${r.ok ? '' : ' (INCOMPLETE)'}`;

async function matrix(
  lab: DhcpLab,
  venue: string,
  servers: Server[],
  blksizes: number[],
  windowsize: number | null,
): Promise<string[]> {
  const results = new Map<string, Run>();
  for (const server of servers) {
    const child = await server.start();
    await measure(lab, venue, child.pid!, FILES[0]!, 2, 1468, windowsize); // warm-up: page cache, JIT
    for (const file of FILES)
      for (const blksize of blksizes)
        for (const n of CLIENTS)
          results.set(
            `${server.name} ${file.name} ${blksize} ${n}`,
            await measure(lab, venue, child.pid!, file, n, blksize, windowsize),
          );
    await server.stop(child);
  }
  const [ours, peer] = servers.map((s) => s.name) as [string, string];
  const lines = [
    `${'file'.padEnd(8)} ${'blk'.padStart(5)} ${'N'.padStart(3)} | ${ours.padEnd(29)} | ${peer.padEnd(29)} | throughput  CPU/GB`,
  ];
  for (const file of FILES) {
    for (const blksize of blksizes) {
      for (const n of CLIENTS) {
        const a = results.get(`${ours} ${file.name} ${blksize} ${n}`)!;
        const b = results.get(`${peer} ${file.name} ${blksize} ${n}`)!;
        lines.push(
          `${`${file.bytes / MIB} MiB`.padEnd(8)} ${String(blksize).padStart(5)} ${String(n).padStart(3)} | ${fmt(a)} | ${fmt(b)} | ${(a.mbps / b.mbps).toFixed(2).padStart(9)}× ${(a.cpuSPerGb / b.cpuSPerGb).toFixed(2).padStart(6)}×`,
        );
      }
    }
  }
  return lines;
}

export async function benchTftp(): Promise<string[]> {
  const lab = new DhcpLab();
  try {
    const venue = lab.lab.namespace('venue');
    lab.plug(venue, 'eth0', '198.18.0.2/24');
    const root = join(lab.dir.path, 'tftp');
    mkdirSync(root, { recursive: true });
    for (const f of FILES) writeFileSync(join(root, f.name), randomBytes(f.bytes));
    const spawnIn = (argv: string[]) => lab.lab.spawn(lab.server, argv);
    const kill = async (child: ChildProcess) => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    };
    const rpiDeploy = (retransmitMs: number): Server => ({
      name: 'rpi-deploy',
      async start() {
        return (await lab.serve({ dhcp: { enabled: false }, tftp: { bootFilesDir: root, retransmitMs } }, [], 'warn'))
          .child;
      },
      stop: kill,
    });
    const started = async (child: ChildProcess) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (child.exitCode !== null) throw new Error(`peer server exited (${child.exitCode})`);
      return child;
    };
    const dnsmasq: Server = {
      name: 'dnsmasq',
      start: () =>
        started(
          spawnIn([
            'dnsmasq',
            '--no-daemon',
            '--conf-file=/dev/null',
            '--port=0',
            '--enable-tftp',
            `--tftp-root=${root}`,
            `--listen-address=${SERVER_ADDRESS}`,
            '--bind-interfaces',
            '--tftp-max=100',
            '--user=root',
            '--group=root',
            '--log-facility=/dev/null',
            `--pid-file=${join(lab.dir.path, 'dnsmasq.pid')}`,
          ]),
        ),
      stop: kill,
    };
    const atftpd: Server = {
      name: 'atftpd',
      start: () =>
        started(
          spawnIn([
            'atftpd',
            '--daemon',
            '--no-fork',
            '--port',
            '69',
            '--bind-address',
            SERVER_ADDRESS,
            '--user',
            'root.root',
            '--maxthread',
            '100',
            '--logfile',
            '/dev/null',
            root,
          ]),
        ),
      stop: kill,
    };
    return [
      'Lock-step (curl), rpi-deploy vs dnsmasq; ratios are rpi-deploy / dnsmasq (throughput: higher is better; CPU per GB: lower is better)',
      ...(await matrix(lab, venue, [rpiDeploy(1000), dnsmasq], [512, 1468], null)),
      'RFC 7440 windowsize 16 (atftp), rpi-deploy vs atftpd',
      ...(await matrix(lab, venue, [rpiDeploy(1000), atftpd], [1468], 16)),
    ];
  } finally {
    await lab.destroy();
  }
}
