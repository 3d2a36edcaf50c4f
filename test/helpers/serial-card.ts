/**
 * The fleet lab's serial card: serial-card.c (a FUSE daemon, built here with the machine's gcc
 * and libfuse3 on first use) exposes a sparse file as `<mount>/card`, where reads and writes share
 * one clock at the card's two rates, as on an SD card. A loop device over it with direct I/O is
 * the board's card: nothing caches between the loop device and the model.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testCacheDir } from './test-cache.js';

const SOURCE = new URL('serial-card.c', import.meta.url).pathname;

/** Why the serial card cannot run here, or undefined when it can (for a test's skipIf). */
export function serialCardMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (FUSE mount and loop devices)';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  if (spawnSync('pkg-config', ['--exists', 'fuse3']).status !== 0)
    return 'needs gcc and libfuse3 headers: apt-get install gcc pkg-config libfuse3-dev';
  return undefined;
}

/** The daemon's binary, compiled once per version of its source into the test cache. */
export function serialCardBinary(): string {
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const binary = join(testCacheDir(), `serial-card-${hash}`);
  if (existsSync(binary)) return binary;
  const missing = serialCardMissing();
  if (missing) throw new Error(`the serial card ${missing}`);
  const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' })
    .stdout.trim()
    .split(/\s+/);
  // Built under a temporary name so that a concurrent run never executes a half-written binary.
  const tmp = `${binary}.${process.pid}`;
  const cc = spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-o', tmp, SOURCE, ...flags], { encoding: 'utf8' });
  if (cc.status !== 0)
    throw new Error(`gcc failed to build ${SOURCE} (${cc.status}): ${cc.stderr || cc.error?.message}`);
  renameSync(tmp, binary);
  return binary;
}

export class SerialCard {
  private constructor(
    /** The card file to put a loop device over. */
    readonly path: string,
    private readonly mountDir: string,
    private readonly child: ChildProcess,
    private readonly log: () => string,
  ) {}

  /** Mounts the model of `backing` (a sparse file of the card's size) at `mountDir`. */
  static async start(backing: string, mountDir: string, writeBps: number, readBps: number): Promise<SerialCard> {
    mkdirSync(mountDir, { recursive: true });
    const argv = [backing, mountDir, String(Math.round(writeBps)), String(Math.round(readBps))];
    const child = spawn(serialCardBinary(), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('did not mount within 10 s')), 10_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`serial card ${mountDir}: ${err.message}: ${stderr.trim()}`));
      };
      child.once('error', fail);
      child.once('exit', (code) => fail(new Error(`the daemon exited with ${code}`)));
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (!stdout.includes('ready\n')) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve();
      });
    });
    return new SerialCard(join(mountDir, 'card'), mountDir, child, () => stderr);
  }

  /** Sets the card's speeds from now on (bytes per second). */
  setRates(writeBps: number, readBps: number): void {
    writeFileSync(join(this.mountDir, 'rates'), `${Math.round(writeBps)} ${Math.round(readBps)}\n`);
  }

  /** What the card did so far: bytes written and read, and the seconds it was busy with them. */
  stats(): { writtenBytes: number; readBytes: number; busyS: number } {
    const text = readFileSync(join(this.mountDir, 'stats'), 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name} ([\\d.]+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { writtenBytes: field('written'), readBytes: field('read'), busyS: field('busy') };
  }

  /**
   * Unmounts (lazily if the card is still open) and waits for the daemon to end; returns its last
   * words (the bytes it moved). Detach the loop device first.
   */
  async stop(): Promise<string> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      if (spawnSync('umount', [this.mountDir]).status !== 0) spawnSync('umount', ['-l', this.mountDir]);
      // The kernel may keep the file system a moment after a loop device over it is detached; ending
      // the daemon then aborts its connection, which is all that is left to do.
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    }
    return this.log().trim();
  }
}
