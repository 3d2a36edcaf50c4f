import { describe, expect, it } from 'vitest';
import {
  onAck,
  onClientError,
  onSocketProgress,
  onTick,
  startTransfer,
  wireBlock,
  type Effect,
  type Transfer,
  type TransferParams,
} from './transfer.js';

const params = (p: Partial<TransferParams> = {}): TransferParams => ({
  sizeBytes: 1468 * 3 + 10,
  blksize: 1468,
  windowsize: 1,
  timeoutMs: 1000,
  maxRetries: 3,
  deadlineAt: 60_000,
  hasOack: true,
  ...p,
});

/** Drives a transfer through a list of events; returns every step's effects and the final state. */
type Ev = ['ack', number] | ['error'] | ['tick'];
function run(p: TransferParams, events: Array<[number, Ev]>): { t: Transfer; effects: Effect[][] } {
  let [t, first] = startTransfer(p, 0);
  const effects: Effect[][] = [first];
  for (const [now, ev] of events) {
    const [next, out] = ev[0] === 'ack' ? onAck(t, ev[1], now) : ev[0] === 'error' ? onClientError(t) : onTick(t, now);
    t = next;
    effects.push(out);
  }
  return { t, effects };
}

const data = (first: number, last = first): Effect => ({ kind: 'data', first, last });
const end = (outcome: string): Effect => ({ kind: 'end', outcome }) as Effect;

describe('TFTP transfer state machine', () => {
  it.each<[string, Partial<TransferParams>, Array<[number, Ev]>, Effect[][]]>([
    [
      'lock-step after an OACK',
      {},
      [
        [1, ['ack', 0]],
        [2, ['ack', 1]],
        [3, ['ack', 2]],
        [4, ['ack', 3]],
        [5, ['ack', 4]],
      ],
      [[{ kind: 'oack' }], [data(1)], [data(2)], [data(3)], [data(4)], [end('served')]],
    ],
    ['no options: DATA 1 at once', { hasOack: false, sizeBytes: 5 }, [[1, ['ack', 1]]], [[data(1)], [end('served')]]],
    ['empty file: one empty block', { hasOack: false, sizeBytes: 0 }, [[1, ['ack', 1]]], [[data(1)], [end('served')]]],
    [
      'a size that is a multiple of blksize ends with an empty block',
      { hasOack: false, sizeBytes: 1468 * 2 },
      [
        [1, ['ack', 1]],
        [2, ['ack', 2]],
        [3, ['ack', 3]],
      ],
      [[data(1)], [data(2)], [data(3)], [end('served')]],
    ],
    [
      'a duplicate ACK sends nothing',
      {},
      [
        [1, ['ack', 0]],
        [2, ['ack', 1]],
        [3, ['ack', 1]],
        [4, ['ack', 1]],
        [5, ['ack', 2]],
      ],
      [[{ kind: 'oack' }], [data(1)], [data(2)], [], [], [data(3)]],
    ],
    [
      'a duplicate ACK 0 after the OACK sends nothing',
      {},
      [
        [1, ['ack', 0]],
        [2, ['ack', 0]],
      ],
      [[{ kind: 'oack' }], [data(1)], []],
    ],
    [
      'an ACK for a block not yet sent is ignored',
      {},
      [
        [1, ['ack', 0]],
        [2, ['ack', 3]],
        [3, ['ack', 1]],
      ],
      [[{ kind: 'oack' }], [data(1)], [], [data(2)]],
    ],
    [
      'an ACK other than 0 before the OACK is acknowledged is ignored',
      {},
      [
        [1, ['ack', 1]],
        [2, ['ack', 0]],
      ],
      [[{ kind: 'oack' }], [], [data(1)]],
    ],
    [
      'timeout resends the unacknowledged block, once per timeout',
      {},
      [
        [1, ['ack', 0]],
        [500, ['tick']],
        [1001, ['tick']],
        [1500, ['tick']],
        [2001, ['tick']],
        [2002, ['ack', 1]],
      ],
      [[{ kind: 'oack' }], [data(1)], [], [data(1)], [], [data(1)], [data(2)]],
    ],
    [
      'timeout resends a lost OACK',
      {},
      [
        [1000, ['tick']],
        [1001, ['ack', 0]],
      ],
      [[{ kind: 'oack' }], [{ kind: 'oack' }], [data(1)]],
    ],
    [
      'too many timeouts end the transfer silently',
      { maxRetries: 2 },
      [
        [1000, ['tick']],
        [2000, ['tick']],
        [3000, ['tick']],
        [4000, ['ack', 0]],
      ],
      [[{ kind: 'oack' }], [{ kind: 'oack' }], [{ kind: 'oack' }], [end('timeout')], []],
    ],
    [
      'progress resets the retry count',
      { maxRetries: 1 },
      [
        [1000, ['tick']],
        [1001, ['ack', 0]],
        [2001, ['tick']],
        [2002, ['ack', 1]],
        [3002, ['tick']],
      ],
      [[{ kind: 'oack' }], [{ kind: 'oack' }], [data(1)], [data(1)], [data(2)], [data(2)]],
    ],
    [
      'the deadline ends the transfer with an ERROR',
      { deadlineAt: 1500 },
      [
        [1, ['ack', 0]],
        [1500, ['tick']],
        [1600, ['ack', 1]],
      ],
      [
        [{ kind: 'oack' }],
        [data(1)],
        [{ kind: 'error', code: 0, message: 'Transfer deadline exceeded' }, end('deadline')],
        [],
      ],
    ],
    [
      'ERROR after the OACK is the Pi 5 tsize probe',
      {},
      [
        [1, ['error']],
        [2, ['ack', 0]],
      ],
      [[{ kind: 'oack' }], [end('probe')], []],
    ],
    [
      'ERROR during DATA aborts',
      {},
      [
        [1, ['ack', 0]],
        [2, ['error']],
      ],
      [[{ kind: 'oack' }], [data(1)], [end('aborted')]],
    ],
    [
      'windowsize 4: whole windows',
      { windowsize: 4, sizeBytes: 1468 * 9 },
      [
        [1, ['ack', 0]],
        [2, ['ack', 4]],
        [3, ['ack', 8]],
        [4, ['ack', 10]],
      ],
      [[{ kind: 'oack' }], [data(1, 4)], [data(5, 8)], [data(9, 10)], [end('served')]],
    ],
    [
      'windowsize 4: an ACK short of the window restarts after it',
      { windowsize: 4, sizeBytes: 1468 * 9 },
      [
        [1, ['ack', 0]],
        [2, ['ack', 2]],
        [3, ['ack', 4]],
        [4, ['ack', 2]],
      ],
      [[{ kind: 'oack' }], [data(1, 4)], [data(3, 6)], [data(5, 8)], []],
    ],
    [
      'windowsize 4: timeout resends everything unacknowledged',
      { windowsize: 4, sizeBytes: 1468 * 9 },
      [
        [1, ['ack', 0]],
        [2, ['ack', 1]],
        [1002, ['tick']],
      ],
      [[{ kind: 'oack' }], [data(1, 4)], [data(2, 5)], [data(2, 5)]],
    ],
  ])('%s', (_case, p, events, want) => expect(run(params(p), events).effects).toEqual(want));

  it('wraps the block counter past 65535 (to 0) and finishes a 70000-block file', () => {
    const p = params({ blksize: 512, sizeBytes: 512 * 70_000 - 1, hasOack: false });
    let [t, effects] = startTransfer(p, 0);
    const wire: number[] = [];
    for (let now = 1; effects[0]?.kind === 'data'; now++) {
      const { last } = effects[0];
      if (last >= 65_534 && last <= 65_538) wire.push(wireBlock(last));
      [t, effects] = onAck(t, wireBlock(last), now);
    }
    expect(wire).toEqual([65_534, 65_535, 0, 1, 2]);
    expect(t.acked).toBe(70_000);
    expect(effects).toEqual([end('served')]);
  });

  it('maps a wrapped ACK to the right absolute block inside a window', () => {
    const p = params({ blksize: 8, sizeBytes: 8 * 70_000, windowsize: 8, hasOack: false });
    let [t] = startTransfer(p, 0);
    t = { ...t, acked: 65_530, sent: 65_538 };
    const [next, effects] = onAck(t, 1, 1);
    expect(next.acked).toBe(65_537);
    expect(effects).toEqual([data(65_538, 65_545)]);
    // 65530 is what the client already acknowledged: a duplicate, even written as its low 16 bits.
    expect(onAck(t, 65_530, 1)[1]).toEqual([]);
  });

  it('takes in the ACKs the socket answered itself as if they had come through onAck', () => {
    const p = params({ sizeBytes: 1468 * 9, maxRetries: 2 });
    let [t] = onAck(startTransfer(p, 0)[0], 0, 1);
    [t] = onTick(t, 1001);
    expect(t.retries).toBe(1);
    // The socket moved on to block 6 and sent block 7 at 1500; the timer runs from there.
    const caught = onSocketProgress(t, 6, 7, 1500);
    expect(caught).toMatchObject({ phase: 'data', acked: 6, sent: 7, retries: 0, retransmitAt: 2500 });
    expect(onTick(caught, 2499)[1]).toEqual([]);
    expect(onTick(caught, 2500)[1]).toEqual([data(7)]);
    // The ACK of the last block still ends the transfer here.
    expect(onAck(onSocketProgress(t, 9, 10, 1500), 10, 1600)[1]).toEqual([end('served')]);
  });

  it('ignores socket progress that is no progress, and any before DATA or after the end', () => {
    const [start] = startTransfer(params(), 0);
    expect(onSocketProgress(start, 0, 0, 5)).toBe(start);
    const [t] = onAck(start, 0, 1);
    expect(onSocketProgress(t, 0, 1, 5)).toBe(t);
    const [done] = onClientError(t);
    expect(onSocketProgress(done, 3, 4, 5)).toBe(done);
  });
});
