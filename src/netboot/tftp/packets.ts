import { OPCODE } from './codec.js';
import { wireBlock } from './transfer.js';

/**
 * A file laid out as ready-to-send DATA datagrams for one block size: every block preceded by its
 * 4-byte header, so each send is one contiguous buffer and nothing is copied or allocated per
 * datagram (the send path is most of the server's CPU). Built once per file and block size and
 * kept as long as the file's bytes are alive (fifty boards read the same kernel).
 */
export interface DataPackets {
  /** The DATA datagram of absolute block `block` (1-based). */
  packet(block: number): Buffer;
}

const built = new WeakMap<Buffer, Map<number, Buffer>>();
const HEADER_BYTES = 4;

export function dataPackets(bytes: Buffer, blksize: number): DataPackets {
  let bySize = built.get(bytes);
  if (!bySize) built.set(bytes, (bySize = new Map()));
  let all = bySize.get(blksize);
  if (!all) {
    const blocks = Math.floor(bytes.length / blksize) + 1;
    all = Buffer.allocUnsafe(bytes.length + blocks * HEADER_BYTES);
    for (let block = 1; block <= blocks; block++) {
      const at = (block - 1) * (blksize + HEADER_BYTES);
      all.writeUInt16BE(OPCODE.DATA, at);
      all.writeUInt16BE(wireBlock(block), at + 2);
      bytes.copy(all, at + HEADER_BYTES, (block - 1) * blksize, Math.min(block * blksize, bytes.length));
    }
    bySize.set(blksize, all);
  }
  const packets = all;
  return {
    packet(block) {
      const at = (block - 1) * (blksize + HEADER_BYTES);
      return packets.subarray(at, Math.min(at + blksize + HEADER_BYTES, packets.length));
    },
  };
}
