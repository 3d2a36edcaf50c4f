import type { FileHandle } from 'node:fs/promises';
import { FatError } from './errors.js';

/** Random-access reads of a disk, a partition, an image file or a stored image. */
export interface BlockReader {
  readonly sizeBytes: number;
  /** Exactly `lengthBytes` from `offsetBytes`; throws rather than return fewer. */
  read: (offsetBytes: number, lengthBytes: number) => Promise<Uint8Array>;
}

/** A BlockReader that can also be written, such as an SD card or a target image file. */
export interface BlockDevice extends BlockReader {
  write(offsetBytes: number, data: Uint8Array): Promise<void>;
}

/** True when `dev` can be written. */
export function isWritable(dev: BlockReader): dev is BlockDevice {
  return typeof (dev as Partial<BlockDevice>).write === 'function';
}

function checkBounds(sizeBytes: number, offsetBytes: number, lengthBytes: number): void {
  if (
    !Number.isSafeInteger(offsetBytes) ||
    !Number.isSafeInteger(lengthBytes) ||
    offsetBytes < 0 ||
    lengthBytes < 0 ||
    offsetBytes + lengthBytes > sizeBytes
  ) {
    throw new FatError(
      'FAT_IO',
      `Access of ${lengthBytes} bytes at ${offsetBytes} is outside the ${sizeBytes}-byte device`,
      { offsetBytes, lengthBytes, sizeBytes },
    );
  }
}

/** A window of `dev` (a partition of a disk): offsets are relative to `startBytes`. */
export function sliceDevice<D extends BlockReader>(dev: D, startBytes: number, sizeBytes: number): D {
  checkBounds(dev.sizeBytes, startBytes, sizeBytes);
  const slice: BlockReader = {
    sizeBytes,
    read(offsetBytes, lengthBytes) {
      checkBounds(sizeBytes, offsetBytes, lengthBytes);
      return dev.read(startBytes + offsetBytes, lengthBytes);
    },
  };
  if (isWritable(dev)) {
    (slice as BlockDevice).write = (offsetBytes, data) => {
      checkBounds(sizeBytes, offsetBytes, data.length);
      return dev.write(startBytes + offsetBytes, data);
    };
  }
  return slice as D;
}

/** A device held in memory (tests, small volumes). Writes change `buffer` in place. */
export function bufferDevice(buffer: Uint8Array): BlockDevice {
  return {
    sizeBytes: buffer.length,
    async read(offsetBytes, lengthBytes) {
      checkBounds(buffer.length, offsetBytes, lengthBytes);
      // A copy: callers may change what they read without changing the device.
      return new Uint8Array(buffer.subarray(offsetBytes, offsetBytes + lengthBytes));
    },
    async write(offsetBytes, data) {
      checkBounds(buffer.length, offsetBytes, data.length);
      buffer.set(data, offsetBytes);
    },
  };
}

/** A device over an open file or block device; short reads are errors, never zero-filled. */
export function fileDevice(handle: FileHandle, sizeBytes: number): BlockDevice {
  return {
    sizeBytes,
    async read(offsetBytes, lengthBytes) {
      checkBounds(sizeBytes, offsetBytes, lengthBytes);
      const out = new Uint8Array(lengthBytes);
      let done = 0;
      while (done < lengthBytes) {
        const { bytesRead } = await handle.read(out, done, lengthBytes - done, offsetBytes + done);
        if (bytesRead === 0)
          throw new FatError('FAT_IO', `Device ended at ${offsetBytes + done} bytes, before ${sizeBytes}`, {
            offsetBytes,
            lengthBytes,
          });
        done += bytesRead;
      }
      return out;
    },
    async write(offsetBytes, data) {
      checkBounds(sizeBytes, offsetBytes, data.length);
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done, offsetBytes + done);
        done += bytesWritten;
      }
    },
  };
}
