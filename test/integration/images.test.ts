import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decompress } from 'zstd-napi';
import type { ImageErrorCode, ImageService } from '../../src/images/index.js';
import type { Manifest } from '../../src/protocol/manifest.js';
import {
  buildPiImage,
  compressImage,
  corruptStoredChunk,
  corruptedCopy,
  pseudoRandomBytes,
  rawDisk,
  truncatedCopy,
  zipOf,
  zipWithLyingSize,
  type CompressedFormat,
  type PiImage,
} from '../helpers/pi-image.js';
import { openCore } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { openTestCore } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The image store end to end on real files: each format imported and read back byte for byte,
 * the manifest checked against what the fixture builder knows about its own image.
 */
let dir: ReturnType<typeof tempDir>;
let core: Awaited<ReturnType<typeof openTestCore>>;
let pi: PiImage;
let bookworm: PiImage;

beforeAll(async () => {
  dir = tempDir();
  pi = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'store' });
  bookworm = buildPiImage(dir.path, { variant: 'bookworm', seed: 'store-bw' });
  core = await openTestCore();
});
afterAll(async () => {
  await core.dispose();
  dir.remove();
});

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const readAll = async (s: Readable) => Buffer.concat(await s.toArray());
/** A stored chunk's bytes, copied out of the pooled read buffer (released, so reads reuse it). */
async function storedChunk(images: ImageService, sha256: string): Promise<Buffer> {
  const read = await images.readChunk(sha256);
  const copy = Buffer.from(read.bytes);
  read.release();
  return copy;
}
const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'OK',
    (e: Error & { code?: string }) => e.code ?? e.message,
  );
let versions = 0;
const nextVersion = () => `1.${versions++}`;

/** Files under the store's chunks/ and manifests/ (staging excluded). */
function storedFiles(dataDir: string): string[] {
  const root = join(dataDir, 'images');
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
    );
  return [...walk(join(root, 'chunks')), ...walk(join(root, 'manifests'))].sort();
}

describe('image import', () => {
  let manifest: Manifest;
  let imageId: number;

  beforeAll(async () => {
    const image = await core.images.import(
      { path: pi.path },
      { product: 'KXP2', version: '2026.11.1', notes: 'first', activate: true },
    );
    imageId = image.id;
    manifest = await core.images.manifest(image.id);
  });

  it('registers the raw image with its hash, size, OS generation and active flag', async () => {
    expect(await core.images.get(imageId)).toMatchObject({
      product: 'KXP2',
      version: '2026.11.1',
      sizeBytes: pi.sizeBytes,
      sha256: pi.sha256,
      chunkCount: Math.ceil(pi.sizeBytes / (4 * 1024 * 1024)),
      osGeneration: 'cloud-init',
      sourceName: 'pi-cloud-init-store.img',
      sourceFormat: 'img',
      active: true,
      notes: 'first',
    });
  });

  it('cuts 4 MiB chunks named by the SHA-256 of their raw bytes, each stored once, zstd-compressed', async () => {
    const raw = readFileSync(pi.path);
    expect(manifest.chunkSizeBytes).toBe(4 * 1024 * 1024);
    for (const c of manifest.chunks) {
      expect(c.offsetBytes).toBe(c.index * manifest.chunkSizeBytes);
      const slice = raw.subarray(c.offsetBytes, c.offsetBytes + c.sizeBytes);
      expect(c.sha256).toBe(sha256(slice));
      const { bytes: stored, totalBytes } = await core.images.readChunk(c.sha256);
      expect(stored.length).toBe(totalBytes);
      expect(totalBytes).toBe(c.storedBytes);
      expect(c.storedSha256).toBe(sha256(stored));
      expect(decompress(stored).equals(slice)).toBe(true);
    }
    // The free chunks are all zeros: one stored file for all of them.
    const distinct = new Set(manifest.chunks.map((c) => c.sha256));
    expect(storedFiles(core.dataDir).filter((f) => f.endsWith('.zst')).length).toBe(distinct.size);
    expect(distinct.size).toBeLessThan(manifest.chunks.length);
  });

  it('reads the MBR partition table and both filesystems', () => {
    expect(manifest.partitionTable).toBe('mbr');
    expect(manifest.partitions).toEqual([
      {
        number: 1,
        startBytes: pi.boot.offsetBytes,
        sizeBytes: pi.boot.lengthBytes,
        type: '0c',
        filesystem: 'vfat',
        label: 'bootfs',
      },
      {
        number: 2,
        startBytes: pi.root.offsetBytes,
        sizeBytes: pi.root.lengthBytes,
        type: '83',
        filesystem: 'ext4',
        label: 'rootfs',
      },
    ]);
  });

  it('records every file of the boot partition and the cloud-init generation', () => {
    expect(manifest.boot?.osGeneration).toBe('cloud-init');
    expect(manifest.boot?.partitionNumber).toBe(1);
    expect(Object.fromEntries(manifest.boot!.files.map((f) => [f.path, f.sizeBytes]))).toEqual(
      Object.fromEntries(Object.entries(pi.boot.files).map(([p, b]) => [p, b.length])),
    );
  });

  it('marks used what the tables and filesystems use, including a used all-zero file, and nothing of the free tail', () => {
    const inside = (o: number, l: number) =>
      manifest.usedRanges.some((r) => r.offsetBytes <= o && o + l <= r.offsetBytes + r.lengthBytes);
    const touches = (o: number, l: number) =>
      manifest.usedRanges.some((r) => r.offsetBytes < o + l && o < r.offsetBytes + r.lengthBytes);
    // MBR and the gap before the first partition.
    expect(inside(0, pi.boot.offsetBytes)).toBe(true);
    // The zero-filled file's blocks are used although every byte is zero.
    const raw = readFileSync(pi.path);
    for (const s of pi.root.zeroFile.spans) {
      expect(raw.subarray(s.offsetBytes, s.offsetBytes + s.lengthBytes).every((b) => b === 0)).toBe(true);
      expect(inside(s.offsetBytes, s.lengthBytes)).toBe(true);
    }
    // Every boot file's bytes are inside used ranges (find them in the raw image).
    for (const [path, data] of Object.entries(pi.boot.files)) {
      if (data.length < 512) continue;
      const at = raw.indexOf(data.subarray(0, 512), pi.boot.offsetBytes);
      expect(at, path).toBeGreaterThan(0);
      expect(inside(at, data.length), path).toBe(true);
    }
    expect(touches(pi.freeTail.offsetBytes, pi.freeTail.lengthBytes)).toBe(false);
    // Most of the boot partition is free FAT space.
    expect(manifest.usedBytes).toBeLessThan(pi.sizeBytes / 2);
    for (const c of manifest.chunks) expect(c.used).toBe(touches(c.offsetBytes, c.sizeBytes));
    expect(manifest.chunks.filter((c) => c.offsetBytes >= pi.freeTail.offsetBytes).every((c) => !c.used)).toBe(true);
  });

  it('rebuilds the raw image, whole or any byte range, from its chunks', async () => {
    const whole = await core.images.openRaw(imageId);
    expect(whole.totalBytes).toBe(pi.sizeBytes);
    const hash = createHash('sha256');
    for await (const part of whole.stream) hash.update(part as Buffer);
    expect(hash.digest('hex')).toBe(pi.sha256);
    const raw = readFileSync(pi.path);
    for (const [offsetBytes, lengthBytes] of [
      [0, 1],
      [4 * 1024 * 1024 - 10, 20],
      [5_000_000, 9_000_000],
      [pi.sizeBytes - 7, 7],
    ] as const) {
      const part = await core.images.openRaw(imageId, { offsetBytes, lengthBytes });
      expect((await readAll(part.stream)).equals(raw.subarray(offsetBytes, offsetBytes + lengthBytes))).toBe(true);
    }
    expect(await codeOf(core.images.openRaw(imageId, { offsetBytes: pi.sizeBytes - 1, lengthBytes: 2 }))).toBe(
      'IMAGE_RANGE_INVALID',
    );
  });

  it('serves a byte range of a stored chunk, to resume a download', async () => {
    const c = manifest.chunks.find((x) => x.storedBytes > 100_000)!;
    const whole = await storedChunk(core.images, c.sha256);
    const tail = await core.images.readChunk(c.sha256, { offsetBytes: 1000, lengthBytes: c.storedBytes - 1000 });
    expect(tail).toMatchObject({ totalBytes: c.storedBytes, offsetBytes: 1000, lengthBytes: c.storedBytes - 1000 });
    expect(tail.bytes.equals(whole.subarray(1000))).toBe(true);
    expect(await codeOf(core.images.readChunk(c.sha256, { offsetBytes: c.storedBytes, lengthBytes: 1 }))).toBe(
      'IMAGE_RANGE_INVALID',
    );
    expect(await codeOf(core.images.readChunk('0'.repeat(64)))).toBe('IMAGE_CHUNK_UNKNOWN');
  });

  it('reads files of the boot partition for netboot', async () => {
    for (const path of [
      'kernel_2712.img',
      'bcm2712d0-rpi-5-b.dtb',
      'overlays/bcm2712d0.dtbo',
      'cmdline.txt',
      'OVERLAYS/README',
    ]) {
      const want = pi.boot.files[path] ?? pi.boot.files['overlays/README']!;
      expect((await core.images.readBootFile(imageId, path)).equals(want)).toBe(true);
    }
  });

  it.each<[string, string, ImageErrorCode]>([
    ['a parent-directory climb', '../../etc/passwd', 'IMAGE_PATH_INVALID'],
    ['a climb inside a path', 'overlays/../../x', 'IMAGE_PATH_INVALID'],
    ['an absolute path', '/kernel_2712.img', 'IMAGE_PATH_INVALID'],
    ['a NUL byte', 'kernel_2712.img\0.txt', 'IMAGE_PATH_INVALID'],
    ['a backslash', 'overlays\\README', 'IMAGE_PATH_INVALID'],
    ['an empty path', '', 'IMAGE_PATH_INVALID'],
    ['a missing file', 'kernel9.img', 'IMAGE_BOOT_FILE_UNKNOWN'],
    ['a directory', 'overlays', 'IMAGE_BOOT_FILE_UNKNOWN'],
  ])('refuses a boot file path with %s', async (_case, path, code) => {
    expect(await codeOf(core.images.readBootFile(imageId, path))).toBe(code);
  });

  it('refuses a second import of the same raw bytes, whatever the container', async () => {
    const zst = compressImage(pi.path, 'zst');
    const before = storedFiles(core.dataDir);
    const err = await core.images
      .import({ path: zst }, { product: 'RXP2', version: nextVersion() })
      .catch((e: Error & { code: string }) => e);
    expect(err).toMatchObject({
      code: 'IMAGE_DUPLICATE',
      message: `These bytes are already stored as KXP2 2026.11.1 (image ${imageId}); nothing was added`,
    });
    expect(storedFiles(core.dataDir)).toEqual(before);
  });

  it('refuses a version the product already has before reading the file', async () => {
    expect(
      await codeOf(core.images.import({ path: '/nonexistent.img' }, { product: 'KXP2', version: '2026.11.1' })),
    ).toBe('IMAGE_DUPLICATE');
  });
});

describe('every supported format', () => {
  it.each<CompressedFormat>(['xz', 'gz', 'zst', 'zip'])('.%s imports to the same raw bytes', async (format) => {
    const src = buildPiImage(dir.path, { seed: `format-${format}` });
    const file = compressImage(src.path, format);
    const image = await core.images.import({ path: file }, { product: 'RXP2', version: nextVersion() });
    expect(image).toMatchObject({ sha256: src.sha256, sizeBytes: src.sizeBytes, sourceFormat: format });
    const hash = createHash('sha256');
    for await (const part of (await core.images.openRaw(image.id)).stream) hash.update(part as Buffer);
    expect(hash.digest('hex')).toBe(src.sha256);
  });

  it('tells the format by magic bytes, not by the name', async () => {
    const src = buildPiImage(dir.path, { seed: 'misnamed' });
    const misnamed = join(dir.path, 'really-zstd.img');
    writeFileSync(misnamed, readFileSync(compressImage(src.path, 'zst')));
    const image = await core.images.import({ path: misnamed }, { product: 'RXP2', version: nextVersion() });
    expect(image).toMatchObject({ sourceFormat: 'zst', sha256: src.sha256 });
  });

  it('imports from a stream with a file name (an upload), zip included', async () => {
    for (const format of ['gz', 'zip'] as const) {
      const src = buildPiImage(dir.path, { seed: `stream-${format}` });
      const file = compressImage(src.path, format);
      const image = await core.images.import(
        { stream: createReadStream(file), name: `upload.${format}`, sizeBytes: statSync(file).size },
        { product: 'RXP2', version: nextVersion() },
      );
      expect(image).toMatchObject({ sha256: src.sha256, sourceName: `upload.${format}`, sourceFormat: format });
    }
  });

  it('imports a tiny raw image whose one partition holds no known filesystem, that partition fully used', async () => {
    const bytes = rawDisk('tiny', 5000);
    const image = await core.images.import(
      { stream: Readable.from([bytes]), name: 'tiny.img' },
      { product: 'RXP2', version: nextVersion() },
    );
    const m = await core.images.manifest(image.id);
    expect(m).toMatchObject({
      partitionTable: 'mbr',
      partitions: [{ number: 1, startBytes: 512, sizeBytes: 4096, type: '83', filesystem: 'unknown', label: null }],
      // The 392 bytes after the last whole sector lie outside every partition.
      usedRanges: [{ offsetBytes: 0, lengthBytes: 4608 }],
      boot: null,
      sizeBytes: 5000,
    });
    expect(m.chunks).toEqual([
      expect.objectContaining({ index: 0, sizeBytes: 5000, used: true, sha256: sha256(bytes) }),
    ]);
    expect(await text((await core.images.openRaw(image.id)).stream.map((b: Buffer) => b.toString('latin1')))).toBe(
      bytes.toString('latin1'),
    );
  });

  it('detects a Bookworm (firstrun.sh) image by its boot partition', async () => {
    const image = await core.images.import({ path: bookworm.path }, { product: 'RXP2', version: nextVersion() });
    expect(image.osGeneration).toBe('firstrun');
    const m = await core.images.manifest(image.id);
    expect(m.boot?.files.map((f) => f.path)).not.toContain('user-data');
  });
});

describe('image records', () => {
  it('keeps one active image per product; refuses deleting the active one unless forced; deletes unshared chunks', async () => {
    const local = await openTestCore();
    try {
      const file = (seed: string) => {
        const p = join(local.dataDir, `${seed}.img`);
        writeFileSync(p, rawDisk(seed, 6 * 1024 * 1024));
        return p;
      };
      const a = await local.images.import({ path: file('a') }, { product: 'kxp2', version: '1.0' });
      const b = await local.images.import({ path: file('b') }, { product: 'KXP2', version: '1.1' });
      await local.images.import({ path: file('c') }, { product: 'RXP2', version: '1.0' });
      await local.images.activate(a.id);
      await local.images.activate(b.id);
      expect((await local.images.list({ product: 'KXP2' })).map((i) => [i.version, i.active])).toEqual([
        ['1.1', true],
        ['1.0', false],
      ]);
      expect((await local.images.active('KXP2'))?.id).toBe(b.id);
      expect(await local.images.active('RXP2')).toBeUndefined();
      expect((await local.images.findByFileName('KXP2-1.1.img'))?.id).toBe(b.id);
      expect(await codeOf(local.images.remove(b.id))).toBe('IMAGE_ACTIVE');
      const chunksOfB = (await local.images.manifest(b.id)).chunks.map((c) => c.sha256);
      await local.images.remove(b.id, { force: true });
      expect(await local.images.active('KXP2')).toBeUndefined();
      for (const c of chunksOfB) expect(await codeOf(local.images.readChunk(c))).toBe('IMAGE_CHUNK_UNKNOWN');
      expect(storedFiles(local.dataDir).filter((f) => f.includes('manifests'))).toHaveLength(2);
      expect(await codeOf(local.images.import({ path: file('d') }, { product: 'NOPE', version: '1' }))).toBe(
        'FLEET_PRODUCT_UNKNOWN',
      );
      expect(await codeOf(local.images.import({ path: file('d') }, { product: 'KXP2', version: '../x' }))).toBe(
        'IMAGE_INPUT_INVALID',
      );
      expect(existsSync(join(local.dataDir, 'images', 'staging'))).toBe(true);
      expect(readdirSync(join(local.dataDir, 'images', 'staging'))).toEqual([]);
    } finally {
      await local.dispose();
    }
  });
});

describe('the stored hash boards check', () => {
  it('is the SHA-256 of the stored file, for chunks another image stored first too', async () => {
    const local = await openTestCore();
    try {
      const a = buildPiImage(dir.path, { seed: 'stored-a' });
      const b = corruptedCopy(a.path, a.sizeBytes - 100, 'stored-b.img');
      await local.images.import({ path: a.path }, { product: 'KXP2', version: 'a' });
      const mb = await local.images.manifest(
        (await local.images.import({ path: b }, { product: 'KXP2', version: 'b' })).id,
      );
      for (const c of mb.chunks) expect(c.storedSha256).toBe(sha256(await storedChunk(local.images, c.sha256)));
    } finally {
      await local.dispose();
    }
  });

  it('is computed from the stored chunks for a manifest stored without it (an earlier version)', async () => {
    const local = await openTestCore();
    let reopened: Awaited<ReturnType<typeof openCore>> | undefined;
    try {
      const image = await local.images.import({ path: pi.path }, { product: 'KXP2', version: 'old' });
      const want = await local.images.manifest(image.id);
      await local.close();
      const [file] = storedFiles(local.dataDir).filter((f) => f.includes('manifests'));
      const old = JSON.parse(readFileSync(file!, 'utf8')) as { chunks: Record<string, unknown>[] };
      for (const c of old.chunks) delete c['storedSha256'];
      writeFileSync(file!, JSON.stringify(old));
      reopened = await openCore(loadConfig({ flags: { dataDir: local.dataDir } }), createLogger('silent'));
      expect((await reopened.images.manifest(image.id)).chunks).toEqual(want.chunks);
    } finally {
      await reopened?.close();
      // `local` was closed above: closing it again may fail, which says nothing about this test.
      await local.dispose().catch(() => undefined);
    }
  });
});

describe('broken input', () => {
  let src: PiImage;
  let local: Awaited<ReturnType<typeof openTestCore>>;
  beforeAll(async () => {
    src = buildPiImage(dir.path, { seed: 'broken' });
    local = await openTestCore();
  });
  afterAll(() => local.dispose());

  /** Nothing registered, nothing stored, no staging left. */
  async function expectNothingLeft(): Promise<void> {
    expect(await local.images.list()).toEqual([]);
    expect(storedFiles(local.dataDir)).toEqual([]);
    expect(readdirSync(join(local.dataDir, 'images', 'staging'))).toEqual([]);
  }

  const half = (path: string) => Math.floor(statSync(path).size / 2);
  const cases: [string, () => string, ImageErrorCode, RegExp][] = [
    [
      'a truncated .xz',
      () => truncatedCopy(compressImage(src.path, 'xz'), half(`${src.path}.xz`)),
      'IMAGE_INPUT_CORRUPT',
      /not a whole xz file/,
    ],
    [
      'a truncated .gz',
      () => truncatedCopy(compressImage(src.path, 'gz'), half(`${src.path}.gz`)),
      'IMAGE_INPUT_CORRUPT',
      /not a whole gz file/,
    ],
    [
      'a truncated .zst',
      () => truncatedCopy(compressImage(src.path, 'zst'), half(`${src.path}.zst`)),
      'IMAGE_INPUT_CORRUPT',
      /not a whole zst file/,
    ],
    [
      'a .zst cut one byte short',
      () => truncatedCopy(compressImage(src.path, 'zst'), statSync(`${src.path}.zst`).size - 1, 'short'),
      'IMAGE_INPUT_CORRUPT',
      /zst/,
    ],
    [
      'a corrupted .xz',
      () => corruptedCopy(compressImage(src.path, 'xz'), half(`${src.path}.xz`)),
      'IMAGE_INPUT_CORRUPT',
      /xz/,
    ],
    [
      'a corrupted .gz',
      () => corruptedCopy(compressImage(src.path, 'gz'), half(`${src.path}.gz`)),
      'IMAGE_INPUT_CORRUPT',
      /gz/,
    ],
    [
      'a corrupted .zst',
      () => corruptedCopy(compressImage(src.path, 'zst'), half(`${src.path}.zst`)),
      'IMAGE_INPUT_CORRUPT',
      /zst/,
    ],
    [
      'a truncated .zip',
      () => truncatedCopy(compressImage(src.path, 'zip'), half(`${src.path}.zip`)),
      'IMAGE_INPUT_CORRUPT',
      /zip is damaged/,
    ],
    [
      'a corrupted .zip entry',
      () => corruptedCopy(compressImage(src.path, 'zip'), half(`${src.path}.zip`)),
      'IMAGE_INPUT_CORRUPT',
      /zip is damaged/,
    ],
    ['a zip with no image', () => zipOf(join(dir.path, 'none.zip'), []), 'IMAGE_ZIP_CONTENTS', /holds no \.img file/],
    [
      'a zip with only a README',
      () => zipOf(join(dir.path, 'readme.zip'), [writeText('README.txt', 'hi')]),
      'IMAGE_ZIP_CONTENTS',
      /holds no \.img file/,
    ],
    [
      'a zip with two images',
      () => zipOf(join(dir.path, 'two.zip'), [src.path, bookworm.path]),
      'IMAGE_ZIP_CONTENTS',
      /holds 2 \.img files/,
    ],
    [
      'a zip entry claiming more bytes than it has',
      () => zipWithLyingSize(src.path, 4096),
      'IMAGE_INPUT_CORRUPT',
      /zip is damaged/,
    ],
    [
      'a zip entry claiming fewer bytes than it has',
      () => zipWithLyingSize(src.path, -4096),
      'IMAGE_INPUT_CORRUPT',
      /zip is damaged/,
    ],
    ['an empty file', () => writeText('empty.img', ''), 'IMAGE_INPUT_EMPTY', /holds no image bytes/],
    [
      'an empty .gz',
      () => compressImage(writeText('empty2.img', ''), 'gz'),
      'IMAGE_INPUT_EMPTY',
      /holds no image bytes/,
    ],
    // `head -c 45M pi.img`: partition 2 (38-54 MiB) was cut to 7 MiB, boards would get a broken root.
    [
      'a raw image cut inside its root partition',
      () => truncatedCopy(src.path, 45 * MiB, 'cut45'),
      'IMAGE_PARTITION_PAST_END',
      /partition 2 starts at 39\.8 MB and is 16\.8 MB long, so it ends at 56\.6 MB, but the image ends at 47\.2 MB: the file was cut short/,
    ],
    [
      'a raw image cut before its root partition starts',
      () => truncatedCopy(src.path, 38 * MiB, 'cut38'),
      'IMAGE_PARTITION_PAST_END',
      /partition 2 starts at 39\.8 MB.*the image ends at 39\.8 MB/,
    ],
    [
      'a whole .zst of a cut raw image',
      () => compressImage(truncatedCopy(src.path, 45 * MiB, 'cut45z'), 'zst'),
      'IMAGE_PARTITION_PAST_END',
      /partition 2/,
    ],
    [
      'eight bytes of text named .img.xz',
      () => writeText('junk.img.xz', 'hello!!\n'),
      'IMAGE_NO_PARTITION_TABLE',
      /junk\.img\.xz is named like an xz file but does not start like one.*8 B of text \("hello!!"\).*no partition table/,
    ],
    [
      'random bytes with no partition table',
      () => writeBytes('noise.img', pseudoRandomBytes('noise', 3 * MiB)),
      'IMAGE_NO_PARTITION_TABLE',
      /noise\.img is 3\.15 MB of binary data .*no partition table/,
    ],
    [
      'a partition table with no partitions',
      () => writeBytes('blank.img', Buffer.alloc(MiB).fill(0x55, 510, 511).fill(0xaa, 511, 512)),
      'IMAGE_NO_PARTITION_TABLE',
      /blank\.img is 1\.05 MB of binary data .*an MBR whose partition table lists no partitions/,
    ],
    [
      'a bare ext4 filesystem (a partition, not a disk)',
      () => bareExt4('bare.img'),
      'IMAGE_NO_PARTITION_TABLE',
      /bare\.img is 4\.19 MB holding an ext2\/3\/4 filesystem .*whole disk/,
    ],
  ];

  function writeBytes(name: string, content: Buffer): string {
    const p = join(dir.path, name);
    writeFileSync(p, content);
    return p;
  }

  function bareExt4(name: string): string {
    const p = join(dir.path, name);
    rmSync(p, { force: true });
    execFileSync('mkfs.ext4', ['-q', '-F', p, '4M']);
    return p;
  }

  function writeText(name: string, content: string): string {
    const p = join(dir.path, name);
    writeFileSync(p, content);
    return p;
  }

  it.each(cases)('%s is refused with a clear error and leaves nothing', async (_case, make, code, message) => {
    const err = await local.images
      .import({ path: make() }, { product: 'RXP2', version: nextVersion() })
      .catch((e: Error & { code: string }) => e);
    expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
    await expectNothingLeft();
  });

  it('a truncated stream (an upload cut short) is refused the same way', async () => {
    const file = truncatedCopy(compressImage(src.path, 'zst'), half(`${src.path}.zst`), 'upload');
    const err = await local.images
      .import({ stream: createReadStream(file), name: 'cut.img.zst' }, { product: 'RXP2', version: nextVersion() })
      .catch((e: Error & { code: string }) => e);
    expect(err).toMatchObject({ code: 'IMAGE_INPUT_CORRUPT' });
    await expectNothingLeft();
  });

  it('an upload that fails mid-way is refused and leaves nothing', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024 * 1024, 7));
        if (this.readableLength > 0) this.destroy(new Error('connection reset by peer'));
      },
    });
    const err = await local.images
      .import({ stream: failing, name: 'reset.img' }, { product: 'RXP2', version: nextVersion() })
      .catch((e: Error & { code: string }) => e);
    expect(err).toMatchObject({ code: 'IMAGE_FILE_UNREADABLE' });
    await expectNothingLeft();
  });

  it('an import cancelled by its abort signal stops and leaves nothing', async () => {
    const controller = new AbortController();
    let seen = 0;
    const err = await local.images
      .import(
        { path: src.path },
        { product: 'RXP2', version: nextVersion() },
        {
          signal: controller.signal,
          onProgress: (p) => {
            seen++;
            if (p.phase === 'reading') controller.abort();
          },
        },
      )
      .catch((e: Error & { code: string }) => e);
    expect(seen).toBeGreaterThan(0);
    expect(err).toMatchObject({ code: 'IMAGE_IMPORT_ABORTED' });
    await expectNothingLeft();
  });

  it('a missing file is an unreadable source', async () => {
    expect(
      await codeOf(
        local.images.import({ path: join(dir.path, 'nope.img') }, { product: 'RXP2', version: nextVersion() }),
      ),
    ).toBe('IMAGE_FILE_UNREADABLE');
    await expectNothingLeft();
  });
});

describe('concurrent imports', () => {
  it('the same bytes twice at once: one is stored, the other refused as a duplicate', async () => {
    const local = await openTestCore();
    try {
      const src = buildPiImage(dir.path, { seed: 'race' });
      const results = await Promise.allSettled([
        local.images.import({ path: src.path }, { product: 'KXP2', version: 'a' }),
        local.images.import({ path: compressImage(src.path, 'zst') }, { product: 'RXP2', version: 'b' }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r.reason as { code?: unknown }).code)).toEqual([
        'IMAGE_DUPLICATE',
      ]);
      const [image] = await local.images.list();
      const hash = createHash('sha256');
      for await (const part of (await local.images.openRaw(image!.id)).stream) hash.update(part as Buffer);
      expect(hash.digest('hex')).toBe(src.sha256);
    } finally {
      await local.dispose();
    }
  });

  it('different images sharing chunks at once: both stored whole', async () => {
    const local = await openTestCore();
    try {
      const a = buildPiImage(dir.path, { seed: 'share-a' });
      const b = corruptedCopy(a.path, a.sizeBytes - 100, 'b.img');
      const [ia, ib] = await Promise.all([
        local.images.import({ path: a.path }, { product: 'KXP2', version: 'a' }),
        local.images.import({ path: b }, { product: 'KXP2', version: 'b' }),
      ]);
      const ma = await local.images.manifest(ia.id);
      const mb = await local.images.manifest(ib.id);
      expect(mb.chunks.filter((c, i) => c.sha256 === ma.chunks[i]!.sha256)).toHaveLength(ma.chunks.length - 1);
      for (const m of [ma, mb])
        for (const c of m.chunks)
          expect(decompress(await storedChunk(local.images, c.sha256)).length).toBe(c.sizeBytes);
    } finally {
      await local.dispose();
    }
  });

  it('an image deleted while another sharing its chunks is imported: the import fails clearly, nothing half-stored', async () => {
    const local = await openTestCore();
    try {
      const a = buildPiImage(dir.path, { seed: 'vanish' });
      const b = corruptedCopy(a.path, a.sizeBytes - 100, 'vanish-b.img');
      const first = await local.images.import({ path: a.path }, { product: 'KXP2', version: 'a' });
      let removal: Promise<void> | undefined;
      const err = await local.images
        .import(
          { path: b },
          { product: 'KXP2', version: 'b' },
          {
            onProgress: (p) =>
              void (p.phase === 'analysing' && (removal ??= local.images.remove(first.id, { force: true }))),
          },
        )
        .catch((e: Error & { code: string }) => e);
      await removal;
      expect(err).toMatchObject({ code: 'IMAGE_STORE_CHANGED' });
      expect(await local.images.list()).toEqual([]);
      expect(storedFiles(local.dataDir)).toEqual([]);
      // Importing again now works.
      expect((await local.images.import({ path: b }, { product: 'KXP2', version: 'b' })).sizeBytes).toBe(a.sizeBytes);
    } finally {
      await local.dispose();
    }
  });
});

describe('a damaged store', () => {
  it('rebuilding the raw image or reading a boot file fails on a corrupted chunk, never returns wrong bytes', async () => {
    const local = await openTestCore();
    try {
      const src = buildPiImage(dir.path, { seed: 'rot' });
      const image = await local.images.import({ path: src.path }, { product: 'KXP2', version: '1' });
      const m = await local.images.manifest(image.id);
      const bootChunk = m.chunks[1]!; // FAT, root directory and the first boot files
      corruptStoredChunk(local.dataDir, bootChunk.sha256);
      const raw = await local.images.openRaw(image.id);
      expect(await codeOf(readAll(raw.stream))).toBe('IMAGE_STORE_CORRUPT');
      expect(await codeOf(local.images.readBootFile(image.id, 'config.txt'))).toBe('IMAGE_STORE_CORRUPT');
      // The chunk itself is served as stored: the board's hash check is what catches it.
      const served = await storedChunk(local.images, bootChunk.sha256);
      expect(served.length).toBe(bootChunk.storedBytes);
    } finally {
      await local.dispose();
    }
  });
});
