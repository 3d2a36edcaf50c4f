import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferSockets } from '../../src/netboot/tftp/transfer-socket.js';
import { onAck, startTransfer } from '../../src/netboot/tftp/transfer.js';

/**
 * The ACK rule exists twice: `onAck` in transfer.ts, and `on_ack` in native/tftp-socket, which
 * answers the ACKs that only move a transfer on without calling into JavaScript. One case table
 * runs against both, the addon driven over a real 127.0.0.1 socket, so the two cannot drift.
 *
 * Each case starts a transfer without options (the first window goes out at once) and feeds it
 * ACKs as they appear on the wire (16-bit block numbers). What the last ACK does:
 *   advance [first, last]  the transfer moves on and these DATA blocks (absolute) go out
 *   ignore                 nothing changes and nothing is sent (duplicate, stale, not yet sent)
 *   end                    the ACK of the last block: transfer.ts ends the transfer; the addon
 *                          leaves that to the state machine and hands the ACK over
 */
const BLKSIZE = 8;
type Want = { advance: [number, number] } | 'ignore' | 'end';

interface AckCase {
  name: string;
  totalBlocks: number;
  window: number;
  /** Wire block numbers, in order. */
  acks: number[];
  /** Acknowledged and sent (absolute) once the last ACK is handled. */
  acked: number;
  sent: number;
  want: Want;
}

const CASES: AckCase[] = [
  {
    name: 'lock-step: the next block',
    totalBlocks: 10,
    window: 1,
    acks: [1],
    acked: 1,
    sent: 2,
    want: { advance: [2, 2] },
  },
  { name: 'lock-step: a duplicate ACK', totalBlocks: 10, window: 1, acks: [1, 1], acked: 1, sent: 2, want: 'ignore' },
  {
    name: 'ACK 0 before any block was acknowledged',
    totalBlocks: 10,
    window: 4,
    acks: [0],
    acked: 0,
    sent: 4,
    want: 'ignore',
  },
  {
    name: 'a full window acknowledged',
    totalBlocks: 20,
    window: 4,
    acks: [4],
    acked: 4,
    sent: 8,
    want: { advance: [5, 8] },
  },
  {
    name: 'a short window: the client lost block 3',
    totalBlocks: 20,
    window: 4,
    acks: [2],
    acked: 2,
    sent: 6,
    want: { advance: [3, 6] },
  },
  {
    name: 'a short window, then its end late (stale)',
    totalBlocks: 20,
    window: 4,
    acks: [2, 4],
    acked: 4,
    sent: 8,
    want: { advance: [5, 8] },
  },
  {
    name: 'a stale ACK from an earlier window',
    totalBlocks: 20,
    window: 4,
    acks: [4, 2],
    acked: 4,
    sent: 8,
    want: 'ignore',
  },
  { name: 'an ACK of a block not sent yet', totalBlocks: 20, window: 2, acks: [5], acked: 0, sent: 2, want: 'ignore' },
  { name: 'the last block', totalBlocks: 3, window: 4, acks: [3], acked: 0, sent: 3, want: 'end' },
  { name: 'the last block after a window', totalBlocks: 6, window: 4, acks: [4, 6], acked: 4, sent: 6, want: 'end' },
  // 65536 blocks and more: the wire number rolls over from 65535 to 0.
  {
    name: 'wrap-around: block 65536 is ACK 0',
    totalBlocks: 70_000,
    window: 65_535,
    acks: [65_535, 0],
    acked: 65_536,
    sent: 70_000,
    want: { advance: [65_537, 70_000] },
  },
  {
    name: 'wrap-around: a duplicate ACK 0',
    totalBlocks: 70_000,
    window: 65_535,
    acks: [65_535, 0, 0],
    acked: 65_536,
    sent: 70_000,
    want: 'ignore',
  },
  {
    name: 'wrap-around: a stale ACK from before the wrap',
    totalBlocks: 70_000,
    window: 65_535,
    acks: [65_535, 2, 65_534],
    acked: 65_538,
    sent: 70_000,
    want: 'ignore',
  },
];

const sizeOf = (c: AckCase) => (c.totalBlocks - 1) * BLKSIZE + 3;

interface Outcome {
  acked: number;
  sent: number;
  /** What the last ACK did, in the table's terms. */
  did: Want;
}

/** transfer.ts: the pure state machine. */
function throughStateMachine(c: AckCase): Outcome {
  const params = {
    sizeBytes: sizeOf(c),
    blksize: BLKSIZE,
    windowsize: c.window,
    timeoutMs: 1000,
    maxRetries: 3,
    deadlineAt: 1e12,
    hasOack: false,
  };
  let [t] = startTransfer(params, 0);
  let did: Want = 'ignore';
  for (const ack of c.acks) {
    const [next, effects] = onAck(t, ack, 1);
    const data = effects.find((e) => e.kind === 'data');
    did = effects.some((e) => e.kind === 'end')
      ? 'end'
      : data?.kind === 'data'
        ? { advance: [data.first, data.last] }
        : 'ignore';
    t = next;
  }
  // The addon leaves the last block's ACK to the state machine: compare where the machine stood before it.
  return { acked: did === 'end' ? ackedBefore(c) : t.acked, sent: t.sent, did };
}

function ackedBefore(c: AckCase): number {
  const params = {
    sizeBytes: sizeOf(c),
    blksize: BLKSIZE,
    windowsize: c.window,
    timeoutMs: 1000,
    maxRetries: 3,
    deadlineAt: 1e12,
    hasOack: false,
  };
  let [t] = startTransfer(params, 0);
  for (const ack of c.acks.slice(0, -1)) [t] = onAck(t, ack, 1);
  return t.acked;
}

interface NativeSocket {
  open(
    a: string,
    ca: string,
    cp: number,
    buf: number,
    bytes: Buffer,
    blksize: number,
    window: number,
    cb: (msg: Buffer | number | null) => void,
  ): { handle: object; port: number };
  sendBlocks(handle: object, first: number, last: number): number;
  progress(handle: object): [number, number, number];
  close(handle: object): void;
}

let client: Socket;
let received: number[] = [];
beforeAll(async () => {
  client = createSocket('udp4');
  client.on('message', (m) => received.push(m.readUInt16BE(2)));
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
});
afterAll(() => client.close());

/** Resolves once no datagram arrived for `quietMs`. */
async function settle(quietMs = 60): Promise<void> {
  let seen = -1;
  while (seen !== received.length) {
    seen = received.length;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

/** native/tftp-socket: the addon's socket, its ACKs sent from a real client socket on loopback. */
async function throughAddon(c: AckCase): Promise<Outcome> {
  const native = transferSockets() as unknown as NativeSocket;
  const handedOver: number[] = [];
  const { handle, port } = native.open(
    '127.0.0.1',
    '127.0.0.1',
    client.address().port,
    0,
    Buffer.alloc(sizeOf(c), 0x5a),
    BLKSIZE,
    c.window,
    (msg) => {
      if (typeof msg === 'number') handedOver.push(msg & 0xffff);
    },
  );
  try {
    // The state machine's first effect for a request without options: the first window.
    expect(native.sendBlocks(handle, 1, Math.min(c.window, c.totalBlocks))).toBe(0);
    await settle();
    let did: Want = 'ignore';
    for (const ack of c.acks) {
      received = [];
      const handed = handedOver.length;
      await new Promise<void>((resolve, reject) =>
        client.send(Buffer.from([0, 4, ack >> 8, ack & 0xff]), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
      await settle();
      if (handedOver.length > handed) did = 'end';
      else did = received.length > 0 ? { advance: [-1, -1] } : 'ignore';
    }
    const [acked, sent] = native.progress(handle);
    // The first DATA out says where the window starts; progress says where it ends (a busy
    // loopback may drop some of thousands of datagrams before the client reads them).
    if (typeof did === 'object') did = { advance: [firstAbsolute(received[0]!, acked), sent] };
    return { acked, sent, did };
  } finally {
    native.close(handle);
  }
}

/** The absolute block a 16-bit wire number stands for, just after `acked`. */
const firstAbsolute = (wire: number, acked: number) => acked + ((wire - acked) & 0xffff || 0x10000);

describe('the TFTP ACK rule, one table for transfer.ts and native/tftp-socket', () => {
  describe.each([
    ['transfer.ts onAck', async (c: AckCase) => throughStateMachine(c)],
    ['native/tftp-socket on_ack over 127.0.0.1', throughAddon],
  ])('%s', (_impl, through) => {
    it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      expect(await through(c)).toEqual({ acked: c.acked, sent: c.sent, did: c.want });
    });
  });
});
