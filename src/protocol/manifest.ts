import Type, { type Static } from 'typebox';

/**
 * The manifest of a stored master image: what a board needs to write it. The raw image is cut
 * into fixed-size chunks, each stored zstd-compressed and identified by the SHA-256 of its raw
 * bytes; `used` says whether any partition table or filesystem structure overlaps the chunk
 * (from the FAT allocation table and the ext4 block bitmaps; an unknown filesystem counts as fully
 * used). A board writes only used chunks. A board that receives a chunk compressed checks the
 * SHA-256 of what it received (`storedSha256`) and lets zstd's frame checksum cover the
 * decompression: hashing the compressed bytes costs a quarter of hashing the raw ones. All
 * chunks are stored, so the exact raw image can always be rebuilt (seed installers download and
 * hash it whole).
 */

export const MANIFEST_FORMAT = 1;
export const DEFAULT_CHUNK_SIZE_BYTES = 4 * 1024 * 1024;

/** A SHA-256 in lower-case hex: how every chunk and image hash is written on the wire. */
export const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const ManifestChunk = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  offsetBytes: Type.Integer({ minimum: 0 }),
  /** Raw size; the last chunk may be shorter than the chunk size. */
  sizeBytes: Type.Integer({ minimum: 1 }),
  sha256: Sha256,
  /** Size as stored and served (zstd). */
  storedBytes: Type.Integer({ minimum: 1 }),
  /** SHA-256 of the stored (zstd) bytes, as served with `Content-Encoding: zstd`. */
  storedSha256: Sha256,
  used: Type.Boolean(),
});
export type ManifestChunk = Static<typeof ManifestChunk>;

export const ByteRange = Type.Object({
  offsetBytes: Type.Integer({ minimum: 0 }),
  lengthBytes: Type.Integer({ minimum: 1 }),
});
export type ByteRange = Static<typeof ByteRange>;

export const FilesystemKind = Type.Enum(['vfat', 'ext4', 'unknown'] as const);
export type FilesystemKind = Static<typeof FilesystemKind>;

export const Partition = Type.Object({
  number: Type.Integer({ minimum: 1 }),
  startBytes: Type.Integer({ minimum: 0 }),
  sizeBytes: Type.Integer({ minimum: 0 }),
  /** MBR type byte as two hex digits (`0c`, `83`) or the GPT type GUID. */
  type: Type.String(),
  filesystem: FilesystemKind,
  /** The filesystem's own label (FAT volume label, ext4 volume name), if it has one. */
  label: Type.Union([Type.String(), Type.Null()]),
});
export type Partition = Static<typeof Partition>;

/** How first boot is customised: cloud-init files (current Raspberry Pi OS) or firstrun.sh (Bookworm). */
export const OsGeneration = Type.Enum(['cloud-init', 'firstrun', 'unknown'] as const);
export type OsGeneration = Static<typeof OsGeneration>;

export const BootPartition = Type.Object({
  partitionNumber: Type.Integer({ minimum: 1 }),
  osGeneration: OsGeneration,
  /** Every file on the FAT boot partition, `/`-separated paths relative to its root. */
  files: Type.Array(Type.Object({ path: Type.String(), sizeBytes: Type.Integer({ minimum: 0 }) })),
});
export type BootPartition = Static<typeof BootPartition>;

/** What import learns about an image's bytes; the same for every record made from them. */
export const ImageLayout = Type.Object({
  sizeBytes: Type.Integer({ minimum: 1 }),
  sha256: Sha256,
  chunkSizeBytes: Type.Integer({ minimum: 4096 }),
  chunks: Type.Array(ManifestChunk),
  partitionTable: Type.Union([Type.Literal('mbr'), Type.Literal('gpt'), Type.Literal('none')]),
  partitions: Type.Array(Partition),
  /** Byte ranges that partition tables and filesystems use, merged and sorted. */
  usedRanges: Type.Array(ByteRange),
  /** Sum of `usedRanges`. */
  usedBytes: Type.Integer({ minimum: 0 }),
  boot: Type.Union([BootPartition, Type.Null()]),
});
export type ImageLayout = Static<typeof ImageLayout>;

/** The manifest a board receives: the image's record identity plus its layout. */
export const Manifest = Type.Object({
  format: Type.Literal(MANIFEST_FORMAT),
  imageId: Type.Integer(),
  product: Type.String(),
  version: Type.String(),
  ...ImageLayout.properties,
});
export type Manifest = Static<typeof Manifest>;
