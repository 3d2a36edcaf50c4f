import { constants } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import type { VerifyMethod } from '../protocol/agent-api.js';
import { openDirectIo } from './direct-io.js';
import { AgentError } from './errors.js';
import type { RateLimiter } from './rate-limit.js';
import type { TargetInfo } from './target.js';

/**
 * The card: positioned writes and a read-back that comes from the medium, not from the page
 * cache. Where the target allows O_DIRECT (block devices, most filesystems), aligned writes and
 * every read-back bypass the cache; otherwise, for a block device, the page cache is dropped
 * after the flush; a file on a filesystem without O_DIRECT is read through the cache, and the
 * result says so.
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

export async function openCard(
  target: TargetInfo,
  options: { limiter?: RateLimiter | undefined; procRoot?: string } = {},
): Promise<Card> {
  // O_EXCL on a block device fails with EBUSY while the kernel or another program holds it (a mount).
  const flags = constants.O_RDWR | (target.kind === 'block' ? constants.O_EXCL : 0);
  const fh = await open(target.path, flags).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'EBUSY')
      throw new AgentError(
        'AGENT_TARGET_MOUNTED',
        `Target ${target.path} is busy (mounted or opened exclusively elsewhere)`,
        { target: target.path },
        { cause },
      );
    throw new AgentError(
      'AGENT_WRITE_FAILED',
      `Cannot open ${target.path} for writing: ${cause.message}`,
      { target: target.path },
      { cause },
    );
  });
  const direct = await openDirectIo(target.path, { write: true });
  const verifyMethod: VerifyMethod = direct ? 'direct-io' : target.kind === 'block' ? 'dropped-caches' : 'page-cache';
  const procRoot = options.procRoot ?? '/proc';
  let flushedSinceDrop = false;
  const failed = (what: string, cause: unknown, offsetBytes?: number) =>
    new AgentError(
      'AGENT_WRITE_FAILED',
      `${what} ${target.path} failed: ${(cause as Error).message}`,
      { offsetBytes },
      { cause },
    );

  async function read(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    const out = Buffer.alloc(lengthBytes);
    let got = 0;
    while (got < lengthBytes) {
      const { bytesRead } = await fh.read(out, got, lengthBytes - got, offsetBytes + got);
      if (bytesRead === 0)
        throw new AgentError('AGENT_WRITE_FAILED', `${target.path} ended at ${offsetBytes + got} bytes`, {
          offsetBytes,
        });
      got += bytesRead;
    }
    return out;
  }

  return {
    path: target.path,
    verifyMethod,
    read,

    async writeAt(offsetBytes, data, signal) {
      await options.limiter?.take(data.length, signal);
      try {
        if (direct?.canWrite(offsetBytes, data.length)) return await direct.write(offsetBytes, data);
        let done = 0;
        while (done < data.length)
          done += (await fh.write(data, done, data.length - done, offsetBytes + done)).bytesWritten;
      } catch (cause) {
        throw failed(`Writing ${data.length} bytes at ${offsetBytes} of`, cause, offsetBytes);
      }
    },

    async flush() {
      try {
        await fh.datasync();
      } catch (cause) {
        throw failed('Flushing', cause);
      }
      flushedSinceDrop = true;
    },

    async readBack(offsetBytes, lengthBytes) {
      try {
        if (direct) return await direct.read(offsetBytes, lengthBytes);
      } catch (cause) {
        throw failed(`Reading back ${lengthBytes} bytes at ${offsetBytes} of`, cause, offsetBytes);
      }
      if (verifyMethod === 'dropped-caches' && flushedSinceDrop) {
        // Drops clean page cache system-wide: acceptable in the netboot initramfs, where nothing else runs.
        await writeFile(`${procRoot}/sys/vm/drop_caches`, '1\n');
        flushedSinceDrop = false;
      }
      return read(offsetBytes, lengthBytes);
    },

    async close() {
      await direct?.close();
      await fh.close();
    },
  };
}
