/**
 * The fleet lab's machinery (the bench's `fleet` and the fleet-mode fault tests): a server
 * namespace and N board namespaces on one bridge (the venue's switch), the server's link and each
 * board's port (both ways) shaped with tc tbf. Each board's card is one of (`cards`):
 * - `blkio` (the default): a loop device over a sparse file, throttled with the cgroup v1 block
 *   controller (blkio.throttle.{write,read}_bps_device) that every process of the board runs in.
 *   Reads and writes have a budget each, so a read running alongside a write is free.
 * - `serial`: a loop device (direct I/O) over the serial card model (serial-card.ts), where reads
 *   and writes share one clock as on an SD card: time = written / write rate + read / read rate.
 * - `files` (for a CI runner without cgroup v1): a plain sparse file, unthrottled.
 * Addresses are in 198.18.0.0/15 only. `destroy()` removes every namespace, loop device, card
 * model, cgroup and process, and is safe to call twice (a signal handler and a `finally` may both
 * call it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, rmdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnServe } from './cli.js';
import { NetLab } from './netns.js';
import { SerialCard } from './serial-card.js';

const BLKIO = '/sys/fs/cgroup/blkio';
const CPUACCT = '/sys/fs/cgroup/cpuacct';
export const SERVER_ADDRESS = '198.18.0.1';

/** Link and card speeds in bytes per second. */
export interface LabSpeeds {
  serverLinkBps: number;
  boardNicBps: number;
  cardWriteBps: number;
  cardReadBps: number;
}

/** How a board's card is made (see the top of this file). */
export type CardModel = 'blkio' | 'serial' | 'files';

/** The throttled card models a bench can choose (`--card`), each described as a run prints it. */
export const BENCH_CARDS = {
  blkio: 'blkio (cgroup v1 throttle: reads and writes each at full rate, even at the same time)',
  serial: 'serial (FUSE model of one medium: reads and writes share one clock, as on an SD card)',
} as const;

/** A bench's `--card` value, or an error naming the choices. */
export function benchCard(value: string): keyof typeof BENCH_CARDS {
  if (value in BENCH_CARDS) return value as keyof typeof BENCH_CARDS;
  throw new Error(`--card ${value}: expected one of ${Object.keys(BENCH_CARDS).join(', ')}`);
}

export interface Board {
  index: number;
  ns: string;
  address: string;
  /** The board's card: /dev/loopN, or a sparse file with `cards: 'files'`. */
  card: string;
}

export interface BoardExit {
  code: number | null;
  stdout: string;
  stderr: string;
  /** performance.now() when the board's processes were done. */
  endMs: number;
}

function run(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** tbf at `bytesPerS`; the bucket holds 10 ms of traffic and at least a few full-size GSO packets. */
function tbf(bytesPerS: number): string[] {
  const burst = Math.max(128 * 1024, Math.round(bytesPerS / 100));
  return ['root', 'tbf', 'rate', `${Math.round(bytesPerS * 8)}bit`, 'burst', String(burst), 'latency', '50ms'];
}

export class FleetLab {
  readonly boards: Board[] = [];
  readonly server: string;
  private readonly net: NetLab;
  private readonly switchNs: string;
  private readonly cgroups: string[];
  private readonly cpuacct: string;
  private readonly cardFiles: string[] = [];
  private readonly serialCards: SerialCard[] = [];
  private readonly others = new Set<ChildProcess>();
  private destroying: Promise<void> | undefined;

  private constructor(
    private readonly dir: string,
    private speeds: LabSpeeds,
    readonly cards: CardModel,
  ) {
    this.net = NetLab.create();
    const tag = `rpi-deploy-fleet-${process.pid}`;
    this.cpuacct = join(CPUACCT, tag);
    this.cgroups = { blkio: [join(BLKIO, tag), this.cpuacct], serial: [this.cpuacct], files: [] }[cards];
    this.switchNs = this.net.namespace('sw');
    this.server = this.net.namespace('srv');
  }

  /** Builds the lab; on any failure, what was built so far is removed before the error is thrown. */
  static async create(o: {
    boards: number;
    cardBytes: number;
    speeds: LabSpeeds;
    dir: string;
    /** The card model, `blkio` by default (see the top of this file). */
    cards?: CardModel;
  }): Promise<FleetLab> {
    const cards = o.cards ?? 'blkio';
    if (cards === 'blkio' && !existsSync(join(BLKIO, 'blkio.throttle.write_bps_device')))
      throw new Error(`the fleet lab needs the cgroup v1 block controller at ${BLKIO}`);
    if (cards === 'serial' && !existsSync(join(CPUACCT, 'cpuacct.usage')))
      throw new Error(`the fleet lab needs the cgroup v1 cpuacct controller at ${CPUACCT}`);
    const lab = new FleetLab(o.dir, o.speeds, cards);
    try {
      await lab.build(o.boards, o.cardBytes);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  private async build(count: number, cardBytes: number): Promise<void> {
    for (const cg of this.cgroups) mkdirSync(cg);
    this.net.bridge(this.switchNs, 'br0', null);
    this.net.link(this.server, 'eth0', `${SERVER_ADDRESS}/16`, this.switchNs, 'psrv', null);
    this.net.enslave(this.switchNs, 'psrv', 'br0');
    mkdirSync(join(this.dir, 'cards'), { recursive: true });
    for (let i = 0; i < count; i++) {
      const ns = this.net.namespace(`b${i}`);
      const address = `198.18.1.${i + 1}`;
      this.net.link(ns, 'eth0', `${address}/16`, this.switchNs, `p${i}`, null);
      this.net.enslave(this.switchNs, `p${i}`, 'br0');
      const file = join(this.dir, 'cards', `card-${i}.img`);
      writeFileSync(file, '');
      truncateSync(file, cardBytes);
      this.cardFiles.push(file);
      if (this.cards === 'files') {
        this.boards.push({ index: i, ns, address, card: file });
        continue;
      }
      if (this.cards === 'serial') {
        const { cardWriteBps, cardReadBps } = this.speeds;
        const model = await SerialCard.start(file, join(this.dir, 'cards', `card-${i}.mnt`), cardWriteBps, cardReadBps);
        this.serialCards.push(model);
        const card = run(['losetup', '--find', '--show', '--direct-io=on', model.path]).trim();
        this.boards.push({ index: i, ns, address, card });
        continue;
      }
      const card = run(['losetup', '--find', '--show', file]).trim();
      this.boards.push({ index: i, ns, address, card });
    }
    this.setSpeeds(this.speeds);
  }

  /**
   * Shapes the server's link, each board's port both ways and each card (its block cgroup throttle
   * or its serial card's rates) to `speeds`; again at any time between runs (a bench may run its designs
   * at different scales).
   */
  setSpeeds(speeds: LabSpeeds): void {
    this.speeds = speeds;
    // The venue's server link: what the server sends to all boards together.
    run(['ip', 'netns', 'exec', this.server, 'tc', 'qdisc', 'replace', 'dev', 'eth0', ...tbf(speeds.serverLinkBps)]);
    for (const board of this.boards) {
      // The board's NIC: its switch port sends to it at most this fast, and what it sends (in fleet
      // mode a board uploads the chunks it passes on).
      const port = `p${board.index}`;
      run(['ip', 'netns', 'exec', this.switchNs, 'tc', 'qdisc', 'replace', 'dev', port, ...tbf(speeds.boardNicBps)]);
      run(['ip', 'netns', 'exec', board.ns, 'tc', 'qdisc', 'replace', 'dev', 'eth0', ...tbf(speeds.boardNicBps)]);
      this.serialCards[board.index]?.setRates(speeds.cardWriteBps, speeds.cardReadBps);
      if (this.cards !== 'blkio') continue;
      const majMin = run(['lsblk', '-dno', 'MAJ:MIN', board.card]).trim();
      writeFileSync(
        join(this.cgroups[0]!, 'blkio.throttle.write_bps_device'),
        `${majMin} ${Math.round(speeds.cardWriteBps)}`,
      );
      writeFileSync(
        join(this.cgroups[0]!, 'blkio.throttle.read_bps_device'),
        `${majMin} ${Math.round(speeds.cardReadBps)}`,
      );
    }
  }

  /** Starts a long-running command in the server namespace; it is killed by `destroy()`. */
  spawnServer(argv: string[]): ChildProcess {
    return this.net.spawn(this.server, argv);
  }

  /**
   * `rpi-deploy serve` on `dataDir` in the server namespace, its device API on
   * SERVER_ADDRESS:`devicePort` (management on loopback there); `destroy()` ends it.
   */
  async serve(dataDir: string, devicePort: number): ReturnType<typeof spawnServe> {
    const listen = ['--device-listen', `${SERVER_ADDRESS}:${devicePort}`, '--management-listen', '127.0.0.1:0'];
    const serve = await spawnServe(['--data-dir', dataDir, ...listen, '--log-level', 'warn'], {
      wrap: ['ip', 'netns', 'exec', this.server],
    });
    this.adopt(serve.child);
    return serve;
  }

  /** Registers a process started elsewhere (e.g. by a helper) so `destroy()` ends it. */
  adopt(child: ChildProcess): void {
    this.others.add(child);
    child.on('exit', () => this.others.delete(child));
  }

  /** Sets options of the switch's bridge (`ip link set br0 type bridge ...`), e.g. its IGMP snooping. */
  configureSwitch(options: string[]): void {
    run(['ip', '-n', this.switchNs, 'link', 'set', 'br0', 'type', 'bridge', ...options]);
  }

  /** The switch's multicast settings and the groups it has learned (`bridge mdb`). */
  switchMulticast(): { settings: Record<string, unknown>; groups: string[] } {
    const info = JSON.parse(run(['ip', '-n', this.switchNs, '-d', '-j', 'link', 'show', 'br0'])) as {
      linkinfo: { info_data: Record<string, unknown> };
    }[];
    const settings = Object.fromEntries(
      Object.entries(info[0]!.linkinfo.info_data).filter(([k]) => k.startsWith('mcast_')),
    );
    const mdb = run(['bridge', '-n', this.switchNs, 'mdb', 'show']);
    return { settings, groups: mdb.split('\n').filter((l) => l.includes(' grp ')) };
  }

  /** Bytes the server's interface has sent so far (its veth's counter). */
  serverTxBytes(): number {
    return Number(run(['ip', 'netns', 'exec', this.server, 'cat', '/sys/class/net/eth0/statistics/tx_bytes']).trim());
  }

  /** Packets the server link's tbf has dropped so far (its queue was full). */
  serverLinkDrops(): number {
    const stats = run(['ip', 'netns', 'exec', this.server, 'tc', '-s', 'qdisc', 'show', 'dev', 'eth0']);
    return Number(/dropped (\d+)/.exec(stats)?.[1] ?? 0);
  }

  /**
   * Drops `percent` % of the packets the board receives and of those it sends, at random: an
   * nftables rule (numgen random) in its namespace. This kernel has no netem; nf_tables is real
   * packet loss all the same, below TCP.
   */
  dropPackets(board: Board, percent: number): void {
    const rules = ['input', 'output']
      .map(
        (hook) =>
          `add chain inet loss ${hook} { type filter hook ${hook} priority 0; }\nadd rule inet loss ${hook} numgen random mod 100 < ${percent} counter drop`,
      )
      .join('\n');
    const r = this.net.exec(board.ns, ['nft', '-f', '-'], { input: `add table inet loss\n${rules}\n` });
    if (r.code !== 0) throw new Error(`nft in ${board.ns} failed (${r.code}): ${r.stderr}`);
  }

  /** Packets the board's loss rule dropped so far, both ways. */
  droppedPackets(board: Board): number {
    const r = this.net.exec(board.ns, ['nft', 'list', 'table', 'inet', 'loss']);
    return [...r.stdout.matchAll(/packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  }

  /** CPU seconds used so far by every process that ran as a board (the cpuacct cgroup). */
  boardsCpuSeconds(): number {
    return Number(readFileSync(join(this.cpuacct, 'cpuacct.usage'), 'utf8')) / 1e9;
  }

  /**
   * Runs `script` (bash, pipefail) as the board: in its namespace and in the cgroup that throttles
   * its card. Resolves when it exits; killed after `timeoutMs`.
   */
  runBoard(board: Board, script: string, timeoutMs: number): Promise<BoardExit> {
    // The shell joins the cgroups before it execs, so everything the board starts is inside them.
    const join = [
      ...this.cgroups.map((cg) => `echo $$ > ${cg}/cgroup.procs && `),
      `exec ip netns exec ${board.ns} bash -o pipefail -c "$0"`,
    ].join('');
    const child = spawn('sh', ['-c', join, script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.adopt(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\nkilled after ${timeoutMs / 1000} s`;
      killGroup(child);
    }, timeoutMs);
    return new Promise((resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, endMs: performance.now() });
      }),
    );
  }

  /** Discards every card (the loop device punches holes in its file), so each cell starts blank. */
  blankCards(): void {
    for (const b of this.boards) run(['blkdiscard', b.card]);
  }

  /**
   * dd with O_DIRECT on board 0's card, inside its cgroup: the throttle as a board sees it. 4 MiB
   * per call, the agent's chunk size: on the serial card each call is charged the time dd takes
   * between calls, as a real card would be.
   */
  async measureCard(seconds: number): Promise<{ writeBps: number; readBps: number }> {
    const board = this.boards[0]!;
    const blocks = Math.max(1, Math.round((this.speeds.cardWriteBps * seconds) / 2 ** 22));
    const rate = async (dd: string) => {
      const exit = await this.runBoard(board, `${dd} bs=4M count=${blocks} 2>&1 | tail -1`, seconds * 10_000);
      const m = /^(\d+) bytes.* copied, ([\d.]+) s/m.exec(exit.stdout);
      if (exit.code !== 0 || !m) throw new Error(`card check failed: ${exit.stdout}${exit.stderr}`);
      return Number(m[1]) / Number(m[2]);
    };
    const writeBps = await rate(`dd if=/dev/zero of=${board.card} oflag=direct`);
    const readBps = await rate(`dd if=${board.card} of=/dev/null iflag=direct`);
    return { writeBps, readBps };
  }

  /** Every caller (a signal handler, a `finally`) waits for the same teardown to end. */
  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    for (const child of this.others) killGroup(child);
    const pids = this.cgroups
      .filter((cg) => existsSync(cg))
      .flatMap((cg) => readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n'));
    // nginx's workers and anything else a server started live on in its namespace after their parent is killed.
    for (const ns of [this.server, ...this.boards.map((b) => b.ns)])
      pids.push(...spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n'));
    for (const pid of pids.filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await this.net.destroy();
    if (this.cards !== 'files') for (const b of this.boards) spawnSync('losetup', ['-d', b.card]);
    await Promise.all(this.serialCards.map((model) => model.stop()));
    for (const cg of this.cgroups) {
      // A killed process leaves its cgroup a moment after the signal.
      for (let i = 0; i < 50 && existsSync(cg); i++) {
        try {
          rmdirSync(cg);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    for (const file of this.cardFiles) rmSync(file, { force: true });
  }
}

function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
