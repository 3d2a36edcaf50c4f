import type { BlockReader } from '../lib/fat/index.js';
import { formatBytes } from '../protocol/units.js';
import type { ImageSourceFormat } from '../protocol/images.js';
import { ImageError } from './errors.js';
import { partitionPastEnd, type PartitionTable } from '../lib/disk/index.js';

/** The import a raw image came from: what it was called and what its first bytes said it is. */
export interface ImageSourceInfo {
  name: string;
  format: ImageSourceFormat;
}

const FORMAT_OF_SUFFIX: [RegExp, ImageSourceFormat, string][] = [
  [/\.xz$/i, 'xz', 'an xz file'],
  [/\.gz$/i, 'gz', 'a gzip file'],
  [/\.zst$/i, 'zst', 'a zstd file'],
  [/\.zip$/i, 'zip', 'a zip'],
];
const COMPRESSED_AS: Record<Exclude<ImageSourceFormat, 'img'>, string> = {
  xz: 'xz-compressed',
  gz: 'gzip-compressed',
  zst: 'zstd-compressed',
  zip: 'a zip',
};
/** Enough to see the signatures looked for below (ISO 9660 puts its own at 32 KiB). */
const SNIFF_BYTES = 36 * 1024;
const TEXT_PREVIEW_CHARS = 40;
const AS_WHOLE_DISK =
  'an image must be a whole disk (a Raspberry Pi OS .img, or the same compressed) whose partition table lists partitions that lie inside it';

/**
 * Refuses what boards cannot be given: an image without a partition table or with none of its
 * partitions, and one whose table points past its end (a download or copy cut short, which a
 * clamp would turn into a broken root filesystem on every board). Messages say what was found
 * instead, and when the content is not the format the file name promises.
 */
export async function requireDisk(table: PartitionTable, dev: BlockReader, source: ImageSourceInfo): Promise<void> {
  const outside = partitionPastEnd(table, dev.sizeBytes);
  if (outside) {
    const { number, startBytes, sizeBytes } = outside;
    const endBytes = startBytes + sizeBytes;
    throw new ImageError(
      'IMAGE_PARTITION_PAST_END',
      `${source.name}: partition ${number} starts at ${formatBytes(startBytes)} and is ${formatBytes(sizeBytes)} long, ` +
        `so it ends at ${formatBytes(endBytes)}, but the image ends at ${formatBytes(dev.sizeBytes)}: ` +
        'the file was cut short (an incomplete download or copy); nothing was imported. Get the whole image and import it again',
      { source: source.name, partition: number, startBytes, sizeBytes, endBytes, imageBytes: dev.sizeBytes },
    );
  }
  if (table.entries.length > 0) return;
  const found = await describeContent(dev);
  const tableFound =
    table.kind === 'none'
      ? 'no partition table (no MBR or GPT)'
      : table.kind === 'mbr'
        ? 'an MBR whose partition table lists no partitions'
        : 'a GPT that lists no partitions or cannot be read (its headers or entry array fail their CRC-32 checks)';
  throw new ImageError(
    'IMAGE_NO_PARTITION_TABLE',
    `${source.name} ${nameMismatch(source)}is ${found}, with ${tableFound}; ${AS_WHOLE_DISK}. Nothing was imported`,
    { source: source.name, format: source.format, partitionTable: table.kind, sizeBytes: dev.sizeBytes },
  );
}

/** When the name promises another format: "is named like an xz file but does not start like one; read as a raw image, it ". */
function nameMismatch(source: ImageSourceInfo): string {
  const named = FORMAT_OF_SUFFIX.find(([suffix]) => suffix.test(source.name));
  if (!named || named[1] === source.format) return '';
  const promised = `is named like ${named[2]} but`;
  return source.format === 'img'
    ? `${promised} does not start like one; read as a raw image, it `
    : `${promised} is ${COMPRESSED_AS[source.format]}; decompressed, it `;
}

/** What the bytes look like, for people: text with its first line, a known signature, or binary data. */
async function describeContent(dev: BlockReader): Promise<string> {
  const size = formatBytes(dev.sizeBytes);
  const head = Buffer.from(await dev.read(0, Math.min(dev.sizeBytes, SNIFF_BYTES)));
  const ascii = (at: number, text: string) => head.subarray(at, at + text.length).toString('latin1') === text;
  const notWhole = "(a partition's contents, not a whole disk)";
  if (head.length >= 1082 && head.readUInt16LE(1080) === 0xef53)
    return `${size} holding an ext2/3/4 filesystem ${notWhole}`;
  if (ascii(54, 'FAT1') || ascii(82, 'FAT32')) return `${size} holding a FAT filesystem ${notWhole}`;
  if (ascii(32769, 'CD001')) return `${size} holding an ISO 9660 (CD/DVD) image`;
  if (ascii(0, 'QFI\xfb')) return `${size} holding a QEMU qcow2 disk (convert it with: qemu-img convert -O raw)`;
  if (ascii(0, 'BZh')) return `${size} of bzip2-compressed data (not a format import reads: decompress it first)`;
  if (isText(head)) {
    const firstLine =
      head
        .toString('utf8')
        .split(/\r?\n/)
        .find((l) => l.trim() !== '') ?? '';
    const shown = firstLine.length > TEXT_PREVIEW_CHARS ? `${firstLine.slice(0, TEXT_PREVIEW_CHARS)}…` : firstLine;
    return `${size} of text (${JSON.stringify(shown)})`;
  }
  return `${size} of binary data (starting ${head.subarray(0, 8).toString('hex')})`;
}

/** UTF-8 without control characters other than tab, line feed and carriage return. */
function isText(bytes: Buffer): boolean {
  // A sniffed prefix may end inside a multi-byte character: drop an incomplete tail before decoding.
  let end = bytes.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const b = bytes[end - back]!;
    if ((b & 0xc0) === 0xc0) {
      end -= back;
      break;
    }
    if ((b & 0x80) === 0) break;
  }
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(decoded);
}
