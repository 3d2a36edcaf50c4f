import { constants, type promises as fsp } from 'node:fs';
import { open } from 'node:fs/promises';

type FileHandle = fsp.FileHandle;

/** O_DIRECT needs buffer address, file offset and length aligned to the logical block size; 4 KiB covers every card. */
export const DIRECT_IO_ALIGN_BYTES = 4096;

/**
 * Reads and writes that bypass the page cache (O_DIRECT): reads come from the medium, writes go
 * to it without a copy lingering in memory. JavaScript cannot ask for aligned memory, so each
 * buffer is over-allocated and its aligned start found by probing: the kernel answers EINVAL at
 * once for a misaligned address and reads for an aligned one.
 */
export interface DirectIo {
  /** `lengthBytes` at `offsetBytes` from the medium; the buffer is reused by the next read. */
  read(offsetBytes: number, lengthBytes: number): Promise<Buffer>;
  /** Whether `write` takes this span (aligned offset and length); otherwise write through the cache. */
  canWrite(offsetBytes: number, lengthBytes: number): boolean;
  write(offsetBytes: number, data: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Undefined when the target's filesystem refuses O_DIRECT. */
export async function openDirectIo(path: string, options: { write: boolean }): Promise<DirectIo | undefined> {
  let reader: FileHandle;
  try {
    reader = await open(path, constants.O_RDONLY | constants.O_DIRECT);
  } catch {
    return undefined;
  }
  // Without O_DIRECT for writing, writes go through the page cache: slower, not wrong.
  const writer = options.write
    ? await open(path, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined)
    : undefined;

  /**
   * A buffer of at least `lengthBytes` at an aligned address, or undefined if none could be found.
   * The probe reads at `probeAt`: a read of a hole in a sparse file succeeds at any address, so a
   * probe there can pass a buffer that a read of data then refuses.
   */
  async function alignedBuffer(lengthBytes: number, probeAt = 0): Promise<Buffer | undefined> {
    const backing = Buffer.allocUnsafeSlow(lengthBytes + DIRECT_IO_ALIGN_BYTES);
    for (let shift = 0; shift < DIRECT_IO_ALIGN_BYTES; shift += 16) {
      try {
        await reader.read(backing, shift, DIRECT_IO_ALIGN_BYTES, probeAt);
        return backing.subarray(shift, shift + lengthBytes);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      }
    }
    return undefined;
  }

  async function mustAlign(lengthBytes: number, probeAt = 0): Promise<Buffer> {
    const buf = await alignedBuffer(lengthBytes, probeAt);
    if (!buf) throw new Error(`no aligned buffer of ${lengthBytes} bytes found`);
    return buf;
  }

  let readBuffer = await alignedBuffer(DIRECT_IO_ALIGN_BYTES);
  if (!readBuffer) {
    await reader.close();
    await writer?.close();
    return undefined;
  }
  const spare: Buffer[] = [];

  return {
    async read(offsetBytes, lengthBytes) {
      const from = offsetBytes - (offsetBytes % DIRECT_IO_ALIGN_BYTES);
      const span = Math.ceil((offsetBytes + lengthBytes - from) / DIRECT_IO_ALIGN_BYTES) * DIRECT_IO_ALIGN_BYTES;
      if (readBuffer!.length < span) readBuffer = await mustAlign(span);
      let got = 0;
      let reprobed = false;
      // A short read happens only at the end of the medium; the next read would be misaligned.
      while (got < span) {
        let bytesRead: number;
        try {
          ({ bytesRead } = await reader.read(readBuffer!, got, span - got, from + got));
        } catch (err) {
          // The buffer passed its probe on a hole: find one that passes where the data is.
          if ((err as NodeJS.ErrnoException).code !== 'EINVAL' || reprobed) throw err;
          reprobed = true;
          readBuffer = await mustAlign(Math.max(span, readBuffer!.length), from);
          got = 0;
          continue;
        }
        got += bytesRead;
        if (bytesRead === 0 || bytesRead % 512 !== 0) break;
      }
      if (got < offsetBytes - from + lengthBytes)
        throw new Error(`read ${got} bytes at ${from}, wanted ${offsetBytes - from + lengthBytes}`);
      return readBuffer!.subarray(offsetBytes - from, offsetBytes - from + lengthBytes);
    },

    canWrite: (offsetBytes, lengthBytes) =>
      writer !== undefined && offsetBytes % DIRECT_IO_ALIGN_BYTES === 0 && lengthBytes % DIRECT_IO_ALIGN_BYTES === 0,

    async write(offsetBytes, data) {
      const i = spare.findIndex((b) => b.length >= data.length);
      const buf = i >= 0 ? spare.splice(i, 1)[0]! : await mustAlign(data.length);
      try {
        data.copy(buf);
        let done = 0;
        while (done < data.length)
          done += (await writer!.write(buf, done, data.length - done, offsetBytes + done)).bytesWritten;
      } finally {
        spare.push(buf);
      }
    },

    async close() {
      await reader.close();
      await writer?.close();
    },
  };
}
