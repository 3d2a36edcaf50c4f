/**
 * A cpio archive in the "newc" format, the one the Linux kernel unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst). Pure: entries in, bytes out.
 * Device nodes are written as entries, so building an initramfs needs no root and no mknod.
 * Timestamps are 0 and owners root, so the same inputs give the same bytes.
 */

export type CpioEntry =
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'file'; data: Buffer; mode?: number }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'char'; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const pad4 = (n: number) => (4 - (n % 4)) % 4;
const hex8 = (n: number) => n.toString(16).padStart(8, '0');

function header(f: {
  ino: number;
  mode: number;
  nlink: number;
  size: number;
  rdevMajor: number;
  rdevMinor: number;
  name: string;
}): Buffer {
  const name = Buffer.from(`${f.name}\0`, 'utf8');
  const fields = [f.ino, f.mode, 0, 0, f.nlink, 0, f.size, 0, 0, f.rdevMajor, f.rdevMinor, name.length, 0];
  const head = Buffer.from(`070701${fields.map(hex8).join('')}`, 'latin1');
  return Buffer.concat([head, name, Buffer.alloc(pad4(head.length + name.length))]);
}

/** Encodes `entries` in order (parents before children) and the trailer. Paths are relative, without a leading `/`. */
export function encodeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const data = e.type === 'file' ? e.data : e.type === 'symlink' ? Buffer.from(e.target, 'utf8') : Buffer.alloc(0);
    const mode =
      e.type === 'dir'
        ? S_IFDIR | (e.mode ?? 0o755)
        : e.type === 'file'
          ? S_IFREG | (e.mode ?? 0o644)
          : e.type === 'symlink'
            ? S_IFLNK | 0o777
            : S_IFCHR | (e.mode ?? 0o600);
    parts.push(
      header({
        ino: ino++,
        mode,
        nlink: e.type === 'dir' ? 2 : 1,
        size: data.length,
        rdevMajor: e.type === 'char' ? e.major : 0,
        rdevMinor: e.type === 'char' ? e.minor : 0,
        name: e.path,
      }),
      data,
      Buffer.alloc(pad4(data.length)),
    );
  }
  parts.push(header({ ino: 0, mode: 0, nlink: 1, size: 0, rdevMajor: 0, rdevMinor: 0, name: 'TRAILER!!!' }));
  return Buffer.concat(parts);
}
