import { TFTP_MAX_BLKSIZE, type TftpOption } from './codec.js';

/** RFC 1350's block size, used when a client asks for no options (tftp-hpa, old ROMs). */
export const TFTP_DEFAULT_BLKSIZE = 512;

/** The server's side of option negotiation. */
export interface TftpLimits {
  /** Largest block offered; 1468 fills a 1500-byte Ethernet frame (1500 − 20 IP − 8 UDP − 4 TFTP). */
  maxBlksize: number;
  /** Largest RFC 7440 window offered. */
  maxWindowsize: number;
  /**
   * Bytes one window may occupy in a receive buffer. A window that overflows the client's socket
   * buffer loses its tail, and every loss costs a timeout (measured: blksize 8192 ×
   * windowsize 16 collapsed to 4–9 MB/s on Linux's default 212992-byte buffers).
   */
  windowBudgetBytes: number;
  /** Retransmission timeout when the client does not ask for one (RFC 2349 `timeout`). */
  defaultTimeoutMs: number;
}

/** What one transfer uses, and the OACK that announces it (null: no option was accepted). */
export interface Negotiated {
  blksize: number;
  windowsize: number;
  timeoutMs: number;
  oack: TftpOption[] | null;
}

/**
 * Per-datagram cost in a receive buffer: Linux charges the buffer with the skb's truesize, which
 * is roughly twice a 1.5 KB payload (headers, skb metadata, allocation rounding).
 */
export function windowCostBytes(blksize: number): number {
  return 2 * (blksize + 32);
}

/** The largest window (≥ 1) whose datagrams fit `budgetBytes`, capped by `maxWindowsize`. */
export function maxWindowFor(blksize: number, limits: Pick<TftpLimits, 'maxWindowsize' | 'windowBudgetBytes'>): number {
  return Math.max(1, Math.min(limits.maxWindowsize, Math.floor(limits.windowBudgetBytes / windowCostBytes(blksize))));
}

function integer(value: string, min: number, max: number): number | undefined {
  if (!/^[0-9]{1,10}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

/**
 * Answers a read request's options (RFC 2347 §4): values out of range or unknown options are
 * left out of the OACK, which declines them; blksize and windowsize may be lowered (RFC 2348,
 * RFC 7440), timeout is accepted as asked or declined (RFC 2349), tsize gets the real size.
 */
export function negotiate(requested: readonly TftpOption[], sizeBytes: number, limits: TftpLimits): Negotiated {
  let blksize = TFTP_DEFAULT_BLKSIZE;
  let windowsize = 1;
  let timeoutMs = limits.defaultTimeoutMs;
  const oack: TftpOption[] = [];
  const seen = new Set<string>();
  let askedWindow: number | undefined;
  for (const [name, value] of requested) {
    if (seen.has(name)) continue;
    seen.add(name);
    if (name === 'blksize') {
      const n = integer(value, 8, TFTP_MAX_BLKSIZE);
      if (n === undefined) continue;
      blksize = Math.min(n, limits.maxBlksize);
      oack.push(['blksize', String(blksize)]);
    } else if (name === 'tsize') {
      if (integer(value, 0, Number.MAX_SAFE_INTEGER) === undefined) continue;
      oack.push(['tsize', String(sizeBytes)]);
    } else if (name === 'timeout') {
      const n = integer(value, 1, 255);
      if (n === undefined) continue;
      timeoutMs = n * 1000;
      oack.push(['timeout', String(n)]);
    } else if (name === 'windowsize') {
      askedWindow = integer(value, 1, 65535);
    }
  }
  // The window bound depends on the block size, which may come after it in the request.
  if (askedWindow !== undefined) {
    windowsize = Math.min(askedWindow, maxWindowFor(blksize, limits));
    oack.push(['windowsize', String(windowsize)]);
  }
  return { blksize, windowsize, timeoutMs, oack: oack.length > 0 ? oack : null };
}
