import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileDevice, openFatVolume, sliceDevice, type FatVolume } from '../../src/lib/fat/index.js';
import type { ByteRange, Manifest } from '../../src/protocol/manifest.js';

/** The FAT boot partition of a written card (or image file), read with the project's FAT reader. */
export async function openBootVolume(
  path: string,
  manifest: Manifest,
): Promise<{ volume: FatVolume; close: () => Promise<void> }> {
  const part = manifest.partitions.find((p) => p.number === manifest.boot!.partitionNumber)!;
  const fh = await open(path, 'r');
  const size = (await fh.stat()).size;
  return {
    volume: await openFatVolume(sliceDevice(fileDevice(fh, size), part.startBytes, part.sizeBytes)),
    close: () => fh.close(),
  };
}

/** A file of the boot partition as mtools reads it (a third-party FAT implementation). */
export function mtype(path: string, manifest: Manifest, file: string): string {
  const part = manifest.partitions.find((p) => p.number === manifest.boot!.partitionNumber)!;
  return execFileSync('mtype', ['-i', `${path}@@${part.startBytes}`, `::${file}`], {
    encoding: 'utf8',
    env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
  });
}

/** Used ranges of the image outside the boot partition (the customisation changes the inside). */
export function usedOutsideBoot(manifest: Manifest): ByteRange[] {
  const part = manifest.partitions.find((p) => p.number === manifest.boot!.partitionNumber)!;
  const bootEnd = part.startBytes + part.sizeBytes;
  const out: ByteRange[] = [];
  for (const r of manifest.usedRanges) {
    const end = r.offsetBytes + r.lengthBytes;
    if (r.offsetBytes < part.startBytes)
      out.push({ offsetBytes: r.offsetBytes, lengthBytes: Math.min(end, part.startBytes) - r.offsetBytes });
    if (end > bootEnd)
      out.push({ offsetBytes: Math.max(r.offsetBytes, bootEnd), lengthBytes: end - Math.max(r.offsetBytes, bootEnd) });
  }
  return out;
}

/** The first byte range where `card` differs from `image`, or undefined. */
export function firstDifference(card: Buffer, image: Buffer, ranges: readonly ByteRange[]): ByteRange | undefined {
  return ranges.find(
    (r) =>
      !card
        .subarray(r.offsetBytes, r.offsetBytes + r.lengthBytes)
        .equals(image.subarray(r.offsetBytes, r.offsetBytes + r.lengthBytes)),
  );
}

/** The first `lengthBytes` of a (large, sparse) card file. */
export function readPrefix(path: string, lengthBytes: number): Buffer {
  const out = Buffer.alloc(lengthBytes);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < lengthBytes) {
      const n = readSync(fd, out, done, lengthBytes - done, done);
      if (n === 0) break;
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * Every regular file of a card (or image file), by partition and path, with the SHA-256 of its
 * contents: the FAT boot partition read with the project's reader, the ext4 root dumped by
 * e2fsprogs' debugfs (a third party). Two cards hold the same system when these maps agree.
 */
export async function filesOfCard(path: string, manifest: Manifest, scratch: string): Promise<Map<string, string>> {
  const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const out = new Map<string, string>();
  const boot = await openBootVolume(path, manifest);
  try {
    for (const f of await boot.volume.walk())
      if (!f.isDirectory) out.set(`boot:${f.path}`, hash(await boot.volume.readFile(f.path)));
  } finally {
    await boot.close();
  }
  const root = manifest.partitions.find((p) => p.filesystem === 'ext4')!;
  const fs = join(scratch, 'root.ext4');
  const dump = join(scratch, 'root');
  rmSync(dump, { recursive: true, force: true });
  mkdirSync(dump, { recursive: true });
  const fd = openSync(path, 'r');
  try {
    const bytes = Buffer.alloc(root.sizeBytes);
    readSync(fd, bytes, 0, root.sizeBytes, root.startBytes);
    writeFileSync(fs, bytes);
  } finally {
    closeSync(fd);
  }
  execFileSync('debugfs', ['-R', `rdump / ${dump}`, fs], { stdio: 'ignore' });
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) visit(p);
      else if (st?.isFile()) out.set(`root:/${relative(dump, p)}`, hash(readFileSync(p)));
    }
  };
  visit(dump);
  rmSync(scratch, { recursive: true, force: true });
  return out;
}
