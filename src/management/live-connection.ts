import type { ServerResponse } from 'node:http';

/**
 * One Server-Sent-Events stream. It writes straight to the socket and never queues on its own:
 * the socket's write buffer is the only backlog, and once it holds more than `maxBufferedBytes`
 * the client is too slow to follow the fleet — it gets a final `dropped` event with the reason and
 * is disconnected. Its EventSource reconnects with Last-Event-ID and catches up from the history,
 * so memory per client stays bounded whatever the client does.
 */
export class LiveConnection {
  private dropped = false;
  private readonly closed: Promise<void>;

  constructor(
    private readonly res: ServerResponse,
    private readonly maxBufferedBytes: number,
    private readonly onEnd: (conn: LiveConnection, reason: string | null) => void,
  ) {
    this.closed = new Promise((resolve) => res.once('close', () => resolve()));
    res.once('close', () => this.finish(null));
  }

  get isOpen(): boolean {
    return !this.dropped;
  }

  /** Bytes waiting in the socket buffer (for tests and the benchmark). */
  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  /** Writes one frame, or drops the client if it has fallen too far behind. */
  write(frame: string | Buffer): void {
    if (this.dropped) return;
    if (this.res.writableLength + frame.length > this.maxBufferedBytes) {
      this.drop(
        `too slow: more than ${this.maxBufferedBytes} bytes of events were waiting; reconnect to catch up from the history`,
      );
      return;
    }
    this.res.write(frame);
  }

  /** Resolves when the socket can take more (catch-up pages wait for it) or the client left. */
  async drained(): Promise<void> {
    if (this.dropped || !this.res.writableNeedDrain) return;
    await Promise.race([new Promise((resolve) => this.res.once('drain', resolve)), this.closed]);
  }

  /** Ends the stream with a `dropped` event; the socket is destroyed if the client does not read it soon. */
  drop(reason: string): void {
    if (this.dropped) return;
    this.res.end(frameOf('dropped', JSON.stringify({ reason })));
    setTimeout(() => this.res.destroy(), DROP_GRACE_MS).unref();
    this.finish(reason);
  }

  private finish(reason: string | null): void {
    if (this.dropped && reason === null) return;
    this.dropped = true;
    this.onEnd(this, reason);
  }
}

const DROP_GRACE_MS = 5_000;

/** One SSE frame; `data` must be a single line (JSON is). */
export function frameOf(event: string | null, data: string, id?: number | null): string {
  return `${event ? `event: ${event}\n` : ''}${id !== null && id !== undefined ? `id: ${id}\n` : ''}data: ${data}\n\n`;
}
