import Type, { type Static } from 'typebox';

const Side = Type.Object({
  id: Type.Integer(),
  product: Type.String(),
  version: Type.String(),
  sizeBytes: Type.Integer(),
});

/**
 * How two versions of an image differ (`rpi-deploy image diff A B`): chunks compared by the
 * SHA-256 of their raw bytes at the same offset (a chunk whose bytes only moved differs for a
 * board, which writes by offset), and the files with a block that differs.
 */
export const ImageDiff = Type.Object({
  from: Side,
  to: Side,
  chunkSizeBytes: Type.Integer(),
  chunks: Type.Integer({ description: 'chunks of the newer (to) image' }),
  differingChunks: Type.Integer({ description: 'chunks of `to` whose bytes differ from `from` at the same offset' }),
  differingBytes: Type.Integer({ description: 'raw bytes of those chunks' }),
  differingUsedChunks: Type.Integer({ description: 'of them, chunks a board writes (used by a filesystem)' }),
  differingUsedBytes: Type.Integer(),
  partitions: Type.Array(
    Type.Object({
      number: Type.Integer(),
      filesystem: Type.String(),
      files: Type.Array(Type.String(), {
        description: 'paths in either version with a 4 KiB block that differs; directories end in /',
      }),
      filesTruncated: Type.Boolean({ description: 'more files changed than listed' }),
    }),
    { description: 'ext4 partitions only: the file analysis reads their inode tables and directories' },
  ),
});
export type ImageDiff = Static<typeof ImageDiff>;
