import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImageError } from './errors.js';

/**
 * An ext2/3/4 filesystem inside an image file, read and changed through e2fsprogs' debugfs with
 * the `file?offset=N` device syntax of its unix I/O manager: no mount, no loop device, no root.
 * debugfs only ever opens the image file, so nothing it does can reach outside it; paths given
 * here are still resolved one component at a time, and a symbolic link is never followed.
 */

const run = promisify(execFile);
const MAX_OUTPUT = 256 * 1024 * 1024;

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface DirEntry {
  name: string;
  kind: EntryKind;
  mode: number;
  uid: number;
  gid: number;
  sizeBytes: number;
}

/** What is at a path: an entry, nothing, or a component on the way that is not a directory. */
export type Lookup =
  { found: true; entry: DirEntry } | { found: false; blockedAt: string | null; blockedKind: EntryKind | null };

function kindOf(mode: number): EntryKind {
  const type = mode & 0o170000;
  if (type === 0o100000) return 'file';
  if (type === 0o040000) return 'dir';
  if (type === 0o120000) return 'symlink';
  return 'other';
}

/** Names debugfs's command parser cannot carry inside double quotes. */
export function isAddressable(path: string): boolean {
  return !/["\\\n\r\t\0]/.test(path);
}

const BANNER = /^debugfs \d/;

/** debugfs prints its banner on stderr; anything else there is a command that failed. */
function complaints(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !BANNER.test(l) && !l.startsWith('Using EXT2FS Library'));
}

export interface Debugfs {
  /** The entries of a directory (without `.` and `..`), cached until write(). */
  list(dir: string): Promise<DirEntry[]>;
  lookup(path: string): Promise<Lookup>;
  /** Where a symbolic link points, as stored. */
  linkTarget(path: string): Promise<string>;
  /** Runs debugfs commands in one `debugfs -w` session; any complaint fails the whole call. */
  write(commands: string[]): Promise<void>;
  /** `e2fsck -fn`: throws IMAGE_FILESYSTEM_DAMAGED with its report unless the filesystem is clean. */
  check(when: string): Promise<void>;
}

export function openDebugfs(imagePath: string, offsetBytes: number, label: string): Debugfs {
  if (imagePath.includes('?'))
    throw new ImageError('IMAGE_PATH_INVALID', `${imagePath}: an image path with "?" cannot be opened by debugfs`, {
      path: imagePath,
    });
  const device = `${imagePath}?offset=${offsetBytes}`;
  const listings = new Map<string, DirEntry[]>();

  const failed = (what: string, detail: string, cause?: unknown) =>
    new ImageError(
      'IMAGE_SANITISE_FAILED',
      `debugfs could not ${what} in the ${label}: ${detail}`,
      { path: imagePath, offsetBytes },
      { cause },
    );

  async function request(command: string): Promise<string> {
    let out: { stdout: string; stderr: string };
    try {
      out = await run('debugfs', ['-R', command, device], { maxBuffer: MAX_OUTPUT });
    } catch (e) {
      throw failed(`run "${command}"`, (e as Error).message, e);
    }
    const problems = complaints(out.stderr);
    if (problems.length > 0) throw failed(`run "${command}"`, problems.join('; '));
    return out.stdout;
  }

  async function list(dir: string): Promise<DirEntry[]> {
    const cached = listings.get(dir);
    if (cached) return cached;
    const entries: DirEntry[] = [];
    // `ls -p`: one `/inode/mode/uid/gid/name/size/` per entry; a name never holds a slash.
    for (const line of (await request(`ls -p "${dir}"`)).split('\n')) {
      const m = /^\/(\d+)\/([0-7]+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line);
      if (!m || m[5] === '.' || m[5] === '..' || m[1] === '0') continue;
      const mode = parseInt(m[2]!, 8);
      entries.push({
        name: m[5]!,
        kind: kindOf(mode),
        mode,
        uid: Number(m[3]),
        gid: Number(m[4]),
        sizeBytes: Number(m[6] || 0),
      });
    }
    listings.set(dir, entries);
    return entries;
  }

  async function lookup(path: string): Promise<Lookup> {
    const parts = path.split('/').filter(Boolean);
    let dir = '/';
    for (let i = 0; i < parts.length; i++) {
      const entry = (await list(dir)).find((e) => e.name === parts[i]);
      const here = `${dir === '/' ? '' : dir}/${parts[i]}`;
      if (!entry) return { found: false, blockedAt: null, blockedKind: null };
      if (i === parts.length - 1) return { found: true, entry };
      if (entry.kind !== 'dir') return { found: false, blockedAt: here, blockedKind: entry.kind };
      dir = here;
    }
    throw new Error(`lookup of the root directory itself (${path})`);
  }

  return {
    list,
    lookup,
    async linkTarget(path) {
      const stat = await request(`stat "${path}"`);
      return /Fast link dest: "?(.*?)"?$/m.exec(stat)?.[1] ?? '(a link stored in a data block)';
    },
    async write(commands) {
      if (commands.length === 0) return;
      const dir = await mkdtemp(join(tmpdir(), 'rpi-deploy-debugfs-'));
      try {
        const file = join(dir, 'commands');
        await writeFile(file, `${commands.join('\n')}\n`);
        let out: { stdout: string; stderr: string };
        try {
          out = await run('debugfs', ['-w', '-f', file, device], { maxBuffer: MAX_OUTPUT });
        } catch (e) {
          throw failed('write', (e as Error).message, e);
        }
        const problems = complaints(out.stderr);
        if (problems.length > 0) throw failed('write', problems.slice(0, 10).join('; '));
      } finally {
        listings.clear();
        await rm(dir, { recursive: true, force: true });
      }
    },
    async check(when) {
      try {
        await run('e2fsck', ['-fn', device], { maxBuffer: MAX_OUTPUT });
      } catch (e) {
        const out = e as { stdout?: string; stderr?: string; code?: number | string };
        if (out.code === 'ENOENT') throw failed('check', 'e2fsck is not installed; install e2fsprogs', e);
        const report = `${out.stdout ?? ''}${out.stderr ?? ''}`.trim().split('\n').slice(-12).join(' | ');
        throw new ImageError(
          'IMAGE_FILESYSTEM_DAMAGED',
          `e2fsck finds errors in the ${label} ${when} (${report}); repair it with e2fsck -f on the golden ` +
            'card or image, or import without --sanitise',
          { path: imagePath, offsetBytes },
          { cause: e },
        );
      }
    },
  };
}
