import { constants, type promises as fsp } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import type { VerifyMethod } from '../protocol/agent-api.js';
import { AgentError } from './errors.js';
import type { RateLimiter } from './rate-limit.js';
import type { TargetInfo } from './target.js';

type FileHandle = fsp.FileHandle;

/** O_DIRECT needs buffer address, file offset and length aligned to the logical block size. */
const DIRECT_IO_ALIGN_BYTES = 4096;

/**
 * The card: positioned writes and a read-back that comes from the medium, not from the page
 * cache. Reads use O_DIRECT where the target allows it; otherwise, for a block device, the page
 * cache is dropped after the flush; a file on a filesystem without O_DIRECT is read through the
 * cache, and the result says so.
 */
export interface Card {
  readonly path: string;
  readonly verifyMethod: VerifyMethod;
  writeAt(offsetBytes: number, data: Buffer, signal?: AbortSignal): Promise<void>;
  /** Reads through the page cache (sees this process's writes at once); for reading, not verifying. */
  read(offsetBytes: number, lengthBytes: number): Promise<Buffer>;
  /** Makes every write so far durable (fdatasync). */
  flush(): Promise<void>;
  /**
   * Reads `lengthBytes` at `offsetBytes` from the medium (flush first). The buffer may be reused
   * by the next call: use it before reading again.
   */
  readBack(offsetBytes: number, lengthBytes: number): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openCard(target: TargetInfo, options: { limiter?: RateLimiter | undefined; procRoot?: string } = {}): Promise<Card> {
  // O_EXCL on a block device fails with EBUSY while the kernel or another program holds it (a mount).
  const flags = constants.O_RDWR | (target.kind === 'block' ? constants.O_EXCL : 0);
  const fh = await open(target.path, flags).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'EBUSY') throw new AgentError('AGENT_TARGET_MOUNTED', `Target ${target.path} is busy (mounted or opened exclusively elsewhere)`, { target: target.path }, { cause });
    throw new AgentError('AGENT_WRITE_FAILED', `Cannot open ${target.path} for writing: ${cause.message}`, { target: target.path }, { cause });
  });
  const direct = await openDirectReader(target.path);
  const verifyMethod: VerifyMethod = direct ? 'direct-io' : target.kind === 'block' ? 'dropped-caches' : 'page-cache';
  const procRoot = options.procRoot ?? '/proc';
  let flushedSinceDrop = false;

  return {
    path: target.path,
    verifyMethod,

    async writeAt(offsetBytes, data, signal) {
      await options.limiter?.take(data.length, signal);
      let done = 0;
      try {
        while (done < data.length) done += (await fh.write(data, done, data.length - done, offsetBytes + done)).bytesWritten;
      } catch (cause) {
        throw new AgentError('AGENT_WRITE_FAILED', `Writing ${data.length} bytes at ${offsetBytes} of ${target.path} failed: ${(cause as Error).message}`, { offsetBytes }, { cause });
      }
    },

    async read(offsetBytes, lengthBytes) {
      const out = Buffer.alloc(lengthBytes);
      const got = await readFully(fh, out, 0, lengthBytes, offsetBytes);
      if (got < lengthBytes) throw new AgentError('AGENT_WRITE_FAILED', `${target.path} ended at ${offsetBytes + got} bytes`, { offsetBytes });
      return out;
    },

    async flush() {
      try {
        await fh.datasync();
      } catch (cause) {
        throw new AgentError('AGENT_WRITE_FAILED', `Flushing ${target.path} failed: ${(cause as Error).message}`, {}, { cause });
      }
      flushedSinceDrop = true;
    },

    async readBack(offsetBytes, lengthBytes) {
      if (direct) return direct.read(offsetBytes, lengthBytes);
      if (verifyMethod === 'dropped-caches' && flushedSinceDrop) {
        // Drops clean page cache system-wide: acceptable in the netboot initramfs, where nothing else runs.
        await writeFile(`${procRoot}/sys/vm/drop_caches`, '1\n');
        flushedSinceDrop = false;
      }
      const out = Buffer.allocUnsafe(lengthBytes);
      await readFully(fh, out, 0, lengthBytes, offsetBytes);
      return out;
    },

    async close() {
      await direct?.close();
      await fh.close();
    },
  };
}

interface DirectReader {
  read(offsetBytes: number, lengthBytes: number): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * An O_DIRECT read handle with an aligned buffer. JavaScript cannot ask for aligned memory, so the
 * buffer is over-allocated and the aligned start is found by probing: the kernel answers EINVAL
 * at once for a misaligned address and reads for an aligned one. Undefined when the target's
 * filesystem refuses O_DIRECT.
 */
async function openDirectReader(path: string): Promise<DirectReader | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_DIRECT);
  } catch {
    return undefined;
  }
  let backing = Buffer.alloc(0);
  let start = -1;

  async function bufferFor(lengthBytes: number): Promise<Buffer | undefined> {
    if (start >= 0 && backing.length - start >= lengthBytes) return backing.subarray(start, start + lengthBytes);
    backing = Buffer.allocUnsafeSlow(lengthBytes + DIRECT_IO_ALIGN_BYTES);
    start = -1;
    for (let shift = 0; shift < DIRECT_IO_ALIGN_BYTES; shift += 16) {
      try {
        await fh.read(backing, shift, DIRECT_IO_ALIGN_BYTES, 0);
        start = shift;
        return backing.subarray(start, start + lengthBytes);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      }
    }
    return undefined;
  }

  if (!(await bufferFor(DIRECT_IO_ALIGN_BYTES))) {
    await fh.close();
    return undefined;
  }
  return {
    async read(offsetBytes, lengthBytes) {
      const from = offsetBytes - (offsetBytes % DIRECT_IO_ALIGN_BYTES);
      const span = Math.ceil((offsetBytes + lengthBytes - from) / DIRECT_IO_ALIGN_BYTES) * DIRECT_IO_ALIGN_BYTES;
      const buf = (await bufferFor(span))!;
      let got = 0;
      // A short read happens only at the end of the medium; the next read would be misaligned.
      while (got < span) {
        const { bytesRead } = await fh.read(buf, got, span - got, from + got);
        got += bytesRead;
        if (bytesRead === 0 || bytesRead % 512 !== 0) break;
      }
      if (got < offsetBytes - from + lengthBytes) throw new AgentError('AGENT_WRITE_FAILED', `Reading back ${path} at ${offsetBytes} returned only ${got} bytes`, { offsetBytes });
      return buf.subarray(offsetBytes - from, offsetBytes - from + lengthBytes);
    },
    close: () => fh.close(),
  };
}

/** Reads until `length` bytes or end of file; returns the count. */
async function readFully(fh: FileHandle, buf: Buffer, at: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, at + done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
