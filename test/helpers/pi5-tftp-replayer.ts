import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ack, error, Peer, rrq, type Datagram } from './tftp-wire.js';

/**
 * Replays the TFTP half of a Raspberry Pi 5 EEPROM network boot (docs/pi5-netboot.md §2) and
 * checks every reply. Each file is read as the bootloader reads it: an RRQ with `tsize 0` and
 * `blksize 1468` (a probe), the OACK, ERROR 0 "Early terminate"; then a fresh RRQ from a new
 * port and a lock-step read, one ACK per DATA. The boot itself follows the observed order:
 * `<serial8>/config.txt`, the root when that is missing, then what config.txt names.
 *
 * Run inside a client namespace:
 *   node --import tsx test/helpers/pi5-tftp-replayer.ts '<ReplayOptions as JSON>'
 * It prints a TftpReplayResult as JSON.
 */

export interface TftpReplayOptions {
  server: string;
  port?: number;
  serial8: string;
  /** Keep the files read here (under their requested paths). */
  saveDir?: string;
  /** How long to wait for any one reply; the Pi repeats an unanswered RRQ every ~2 s. */
  replyTimeoutMs?: number;
}

export interface FileRead {
  path: string;
  status: 'ok' | 'not-found' | 'failed';
  size?: number;
  sha256?: string;
  /** Wall time of the probe + read. */
  ms: number;
}

export interface TftpReplayResult {
  /** `<serial8>/` when the board's own directory looked bootable, '' when it fell back to the root. */
  prefix: string | null;
  files: FileRead[];
  problems: string[];
}

const BLKSIZE = 1468;
const PI_OPTIONS: Array<[string, string]> = [
  ['tsize', '0'],
  ['blksize', String(BLKSIZE)],
];

class Replayer {
  readonly problems: string[] = [];
  readonly files: FileRead[] = [];

  constructor(private readonly o: Required<Omit<TftpReplayOptions, 'saveDir'>> & { saveDir?: string }) {}

  private problem(path: string, what: string): void {
    this.problems.push(`${path}: ${what}`);
  }

  /** The first reply to an RRQ, repeating the RRQ every 2 s as the Pi does (at most 3 times). */
  private async request(peer: Peer, path: string): Promise<Datagram | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      peer.send(rrq(path, PI_OPTIONS), this.o.port, this.o.server);
      const got = await peer.next(Math.min(2000, this.o.replyTimeoutMs));
      if (got) return got;
    }
    return undefined;
  }

  /** Probe: OACK with exactly tsize and blksize 1468, then the Pi's "Early terminate". Returns tsize. */
  private async probe(path: string): Promise<number | 'not-found' | undefined> {
    const peer = await Peer.open();
    try {
      const sentAt = performance.now();
      const first = await this.request(peer, path);
      if (!first) return (this.problem(path, 'probe: no answer'), undefined);
      if (first.reply.op === 'ERROR') {
        if (first.reply.code !== 1)
          this.problem(path, `probe: ERROR ${first.reply.code} "${first.reply.message}" where 1 (not found) was due`);
        if (first.at - sentAt > 1000) this.problem(path, `probe: "not found" took ${Math.round(first.at - sentAt)} ms`);
        return 'not-found';
      }
      if (first.reply.op !== 'OACK') return (this.problem(path, `probe: ${first.reply.op} instead of OACK`), undefined);
      if (first.from.port === this.o.port)
        this.problem(path, 'probe: OACK came from the server port, not a transfer port');
      const keys = Object.keys(first.reply.options).sort().join(',');
      if (keys !== 'blksize,tsize') this.problem(path, `probe: OACK options ${keys}, expected blksize,tsize`);
      if (first.reply.options['blksize'] !== String(BLKSIZE))
        this.problem(path, `probe: blksize ${first.reply.options['blksize']}`);
      const tsize = Number(first.reply.options['tsize']);
      if (!Number.isSafeInteger(tsize) || tsize < 0)
        return (this.problem(path, `probe: tsize ${first.reply.options['tsize']}`), undefined);
      peer.send(error(0, 'Early terminate'), first.from.port, first.from.address);
      // The session must end silently: nothing more may arrive on the probe's port.
      const stray = await peer.next(300);
      if (stray) this.problem(path, `probe: ${stray.reply.op} after "Early terminate"`);
      return tsize;
    } finally {
      peer.close();
    }
  }

  /** The real read: lock-step from a new port, every DATA checked. */
  private async read(path: string, tsize: number): Promise<Buffer | undefined> {
    const peer = await Peer.open();
    try {
      const first = await this.request(peer, path);
      if (first?.reply.op !== 'OACK')
        return (this.problem(path, `read: ${first ? first.reply.op : 'no answer'} instead of OACK`), undefined);
      if (Number(first.reply.options['tsize']) !== tsize)
        this.problem(path, `read: tsize ${first.reply.options['tsize']} differs from the probe's ${tsize}`);
      const tid = first.from;
      const parts: Buffer[] = [];
      let received = 0;
      peer.send(ack(0), tid.port, tid.address);
      for (let block = 1; ; block++) {
        const got = await peer.next(this.o.replyTimeoutMs);
        if (!got) return (this.problem(path, `read: no DATA ${block}`), undefined);
        if (got.from.port !== tid.port || got.from.address !== tid.address)
          return (
            this.problem(path, `read: DATA from ${got.from.address}:${got.from.port}, not the transfer's TID`),
            undefined
          );
        if (got.reply.op !== 'DATA') return (this.problem(path, `read: ${got.reply.op} at block ${block}`), undefined);
        if (got.reply.block !== (block & 0xffff))
          return (
            this.problem(
              path,
              `read: DATA ${got.reply.block} where ${block & 0xffff} was due (a premature retransmit?)`,
            ),
            undefined
          );
        parts.push(Buffer.from(got.reply.data));
        received += got.reply.data.length;
        peer.send(ack(block & 0xffff), tid.port, tid.address);
        if (got.reply.data.length < BLKSIZE) break;
        if (got.reply.data.length > BLKSIZE)
          return (this.problem(path, `read: DATA ${block} carries ${got.reply.data.length} bytes`), undefined);
      }
      if (received !== tsize) this.problem(path, `read: ${received} bytes, tsize said ${tsize}`);
      const stray = await peer.next(300);
      if (stray) this.problem(path, `read: ${stray.reply.op} after the last ACK`);
      return Buffer.concat(parts);
    } finally {
      peer.close();
    }
  }

  /** Probe and read one file; the bytes come back too (and are saved when asked). */
  async file(path: string): Promise<{ read: FileRead; bytes?: Buffer }> {
    const started = performance.now();
    const done = (r: Omit<FileRead, 'path' | 'ms'>, bytes?: Buffer) => {
      const read = { path, ...r, ms: Math.round(performance.now() - started) };
      this.files.push(read);
      return { read, ...(bytes && { bytes }) };
    };
    const tsize = await this.probe(path);
    if (tsize === 'not-found') return done({ status: 'not-found' });
    const bytes = tsize === undefined ? undefined : await this.read(path, tsize);
    if (!bytes) return done({ status: 'failed' });
    if (this.o.saveDir) {
      const out = join(this.o.saveDir, path);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, bytes);
    }
    return done({ status: 'ok', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }, bytes);
  }

  /** The boot: config.txt (own directory, else the root), then the files it leads to. */
  async boot(): Promise<string | null> {
    let prefix = `${this.o.serial8}/`;
    let config = await this.file(`${prefix}config.txt`);
    if (!config.bytes) {
      prefix = '';
      config = await this.file('config.txt');
      if (!config.bytes) return null;
    }
    const text = config.bytes.toString('utf8');
    const kernel = /^kernel=(\S+)/m.exec(text)?.[1] ?? 'kernel_2712.img';
    const initramfs = /^initramfs\s+(\S+)/m.exec(text)?.[1];
    for (const name of [
      'bcm2712-rpi-5-b.dtb',
      kernel,
      ...(initramfs ? [initramfs] : []),
      'overlays/overlay_map.dtb',
      'overlays/bcm2712d0.dtbo',
      'cmdline.txt',
      'pieeprom.sig',
      'armstub8-2712.bin',
    ]) {
      await this.file(`${prefix}${name}`);
    }
    return prefix;
  }
}

export async function replayPi5Boot(options: TftpReplayOptions): Promise<TftpReplayResult> {
  const r = new Replayer({ port: 69, replyTimeoutMs: 3000, ...options });
  const prefix = await r.boot();
  return { prefix, files: r.files, problems: r.problems };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const options = JSON.parse(process.argv[2] ?? '{}') as TftpReplayOptions;
  process.stdout.write(`${JSON.stringify(await replayPi5Boot(options))}\n`);
}
