/**
 * One read transfer as a pure state machine (style R5): (transfer, event) → (transfer, effects).
 * The shell in server.ts owns the socket and the clock and carries out the effects. Block numbers
 * here are absolute (1, 2, … past 65535); only the wire uses their low 16 bits, so the counter
 * rolls over from 65535 to 0 as tftp-hpa, curl and the Pi 5 bootloader since 2025-09 expect.
 */

export interface TransferParams {
  sizeBytes: number;
  blksize: number;
  /** RFC 7440 window; 1 is classic lock-step. */
  windowsize: number;
  timeoutMs: number;
  /** Timeouts in a row without progress before the transfer is given up. */
  maxRetries: number;
  /** Absolute time (ms) by which the whole file must be acknowledged. */
  deadlineAt: number;
  /** True when the request's options were answered with an OACK, which the client ACKs as block 0. */
  hasOack: boolean;
}

export interface Transfer extends TransferParams {
  /** Number of DATA blocks, the last one shorter than blksize (possibly empty). */
  readonly totalBlocks: number;
  readonly phase: 'oack' | 'data' | 'done';
  /** Highest block the client acknowledged (0: none yet). */
  readonly acked: number;
  /** Highest block sent so far. */
  readonly sent: number;
  /** Timeouts since the last progress. */
  readonly retries: number;
  readonly retransmitAt: number;
}

/** How a transfer ended. `probe`: the client read the OACK (tsize) and stopped, as the Pi 5 does. */
export type Outcome = 'served' | 'probe' | 'aborted' | 'timeout' | 'deadline';

export type Effect =
  | { kind: 'oack' }
  /** Send DATA blocks `first..last` (absolute, inclusive). */
  | { kind: 'data'; first: number; last: number }
  | { kind: 'error'; code: number; message: string }
  | { kind: 'end'; outcome: Outcome };

export type Step = [Transfer, Effect[]];

/** The 16-bit number a block carries on the wire. */
export function wireBlock(block: number): number {
  return block & 0xffff;
}

type Progress = Pick<Transfer, 'phase' | 'acked' | 'sent' | 'retries' | 'retransmitAt'>;

/**
 * The next state, written out field by field: every Transfer then has one shape, and a step
 * costs one small allocation (an object spread took a slow path in V8 on every ACK).
 */
function next(t: TransferParams & { totalBlocks: number }, p: Progress): Transfer {
  return {
    sizeBytes: t.sizeBytes,
    blksize: t.blksize,
    windowsize: t.windowsize,
    timeoutMs: t.timeoutMs,
    maxRetries: t.maxRetries,
    deadlineAt: t.deadlineAt,
    hasOack: t.hasOack,
    totalBlocks: t.totalBlocks,
    phase: p.phase,
    acked: p.acked,
    sent: p.sent,
    retries: p.retries,
    retransmitAt: p.retransmitAt,
  };
}

function sendWindow(t: Transfer, acked: number, now: number): Step {
  const first = acked + 1;
  const last = Math.min(acked + t.windowsize, t.totalBlocks);
  return [
    next(t, { phase: 'data', acked, sent: Math.max(t.sent, last), retries: 0, retransmitAt: now + t.timeoutMs }),
    [{ kind: 'data', first, last }],
  ];
}

export function startTransfer(p: TransferParams, now: number): Step {
  const t = next(
    { ...p, totalBlocks: Math.floor(p.sizeBytes / p.blksize) + 1 },
    { phase: 'oack', acked: 0, sent: 0, retries: 0, retransmitAt: now + p.timeoutMs },
  );
  return p.hasOack ? [t, [{ kind: 'oack' }]] : sendWindow(t, 0, now);
}

const finished = (t: Transfer, acked = t.acked): Transfer =>
  next(t, { phase: 'done', acked, sent: t.sent, retries: t.retries, retransmitAt: t.retransmitAt });

/**
 * An ACK advances the transfer only if it acknowledges a block that was sent and not yet
 * acknowledged. A duplicate or stale ACK changes nothing and sends nothing: answering it would
 * double the traffic for the rest of the file (the Sorcerer's Apprentice bug, RFC 1123 §4.2.3.1)
 * and premature DATA hangs Pi firmware (firmware#1631). Lost packets are recovered by timeout.
 * Within a window, an ACK short of its end means the client lost the next block: the next window
 * starts right after it (RFC 7440 §4).
 */
export function onAck(t: Transfer, block: number, now: number): Step {
  if (t.phase === 'done') return [t, []];
  if (t.phase === 'oack') return block === 0 ? sendWindow(t, 0, now) : [t, []];
  const delta = (block - t.acked) & 0xffff;
  if (delta === 0 || t.acked + delta > t.sent) return [t, []];
  const acked = t.acked + delta;
  if (acked === t.totalBlocks) return [finished(t, acked), [{ kind: 'end', outcome: 'served' }]];
  return sendWindow(t, acked, now);
}

/**
 * The transfer socket (native/tftp-socket) applies `onAck`'s rule itself to every ACK short of
 * the last block, so a transfer costs no call into JavaScript per block. Before the state machine
 * handles anything else, the session reads how far the socket got: blocks acknowledged and sent,
 * and when DATA last left. Progress counts as if those ACKs had come through `onAck`.
 */
export function onSocketProgress(t: Transfer, acked: number, sent: number, sentAt: number): Transfer {
  if (t.phase !== 'data' || acked <= t.acked) return t;
  return next(t, {
    phase: 'data',
    acked,
    sent: Math.max(t.sent, sent),
    retries: 0,
    retransmitAt: sentAt + t.timeoutMs,
  });
}

/** The client sent ERROR: the transfer ends without a reply (RFC 1350 §7 errors are not acknowledged). */
export function onClientError(t: Transfer): Step {
  if (t.phase === 'done') return [t, []];
  return [finished(t), [{ kind: 'end', outcome: t.phase === 'oack' ? 'probe' : 'aborted' }]];
}

/** Clock tick: the deadline ends the transfer, an expired timer resends what is unacknowledged. */
export function onTick(t: Transfer, now: number): Step {
  if (t.phase === 'done') return [t, []];
  if (now >= t.deadlineAt) {
    return [
      finished(t),
      [
        { kind: 'error', code: 0, message: 'Transfer deadline exceeded' },
        { kind: 'end', outcome: 'deadline' },
      ],
    ];
  }
  if (now < t.retransmitAt) return [t, []];
  if (t.retries >= t.maxRetries) return [finished(t), [{ kind: 'end', outcome: 'timeout' }]];
  const again = next(t, {
    phase: t.phase,
    acked: t.acked,
    sent: t.sent,
    retries: t.retries + 1,
    retransmitAt: now + t.timeoutMs,
  });
  return [again, [t.phase === 'oack' ? { kind: 'oack' } : { kind: 'data', first: t.acked + 1, last: t.sent }]];
}
