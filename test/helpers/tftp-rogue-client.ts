import { createHash, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { ack, Peer, rrq } from './tftp-wire.js';

/**
 * A TFTP client that misbehaves on purpose, to prove how the server copes with loss:
 * - `duplicate-acks`: every ACK is sent several times (a duplicate ACK must never cause a send);
 * - `withhold-acks`: the ACKs of some blocks are held back once (only a timeout may resend);
 * - `window-gap`: with an RFC 7440 window, one block is "lost" and the client ACKs the block
 *   before it, as RFC 7440 §4 says (the server restarts from the gap at once);
 * - `silent`: after the first answer the client never speaks again (retries, then silence);
 * - `vanish`: after the first answer the client closes its port (the server's next datagram draws
 *   an ICMP port unreachable), then listens on that port again from `reopenAfterMs`;
 * - `fuzz`: random and truncated datagrams at port 69 and into a running transfer.
 *
 * Run inside a client namespace:
 *   node --import tsx test/helpers/tftp-rogue-client.ts '<RogueOptions as JSON>'
 */

export interface RogueOptions {
  mode: 'duplicate-acks' | 'withhold-acks' | 'window-gap' | 'silent' | 'vanish' | 'fuzz';
  server: string;
  port?: number;
  path: string;
  blksize?: number;
  windowsize?: number;
  /** duplicate-acks: copies of each ACK. */
  copies?: number;
  /** withhold-acks: blocks whose first DATA goes unacknowledged; window-gap: the block "lost". */
  blocks?: number[];
  /** silent, vanish: how long to listen. fuzz: datagrams to send. */
  listenMs?: number;
  /** vanish: when (ms after the first answer) to listen on the closed port again. */
  reopenAfterMs?: number;
  count?: number;
}

export interface RogueResult {
  ok: boolean;
  size: number;
  sha256: string;
  /** DATA datagrams received, and how many distinct blocks they carried. */
  dataPackets: number;
  blocks: number;
  /** A DATA for a block already received: when, after its previous copy. */
  repeats: Array<{ block: number; afterMs: number }>;
  /** silent, vanish: arrival times (ms after the first answer) of everything received. */
  arrivals: number[];
  /** window-gap: from the ACK before the gap to the lost block's arrival. */
  recoveryMs?: number;
  problems: string[];
}

async function run(o: RogueOptions): Promise<RogueResult> {
  const port = o.port ?? 69;
  const blksize = o.blksize ?? 512;
  const options: Array<[string, string]> = [['blksize', String(blksize)]];
  if (o.windowsize) options.push(['windowsize', String(o.windowsize)]);
  const result: RogueResult = {
    ok: false,
    size: 0,
    sha256: '',
    dataPackets: 0,
    blocks: 0,
    repeats: [],
    arrivals: [],
    problems: [],
  };
  let peer = await Peer.open();
  const fuzzer = o.mode === 'fuzz' ? await Peer.open() : undefined;
  try {
    if (fuzzer) for (let i = 0; i < (o.count ?? 1000); i++) fuzzer.send(garbage(i), port, o.server);
    // Like any client, repeat an unanswered request (a flood may have filled the server's buffer).
    let first: Awaited<ReturnType<Peer['next']>> | undefined;
    for (let attempt = 0; attempt < 5 && !first; attempt++) {
      peer.send(rrq(o.path, options), port, o.server);
      first = await peer.next(1000);
    }
    if (first?.reply.op !== 'OACK') {
      result.problems.push(`expected OACK, got ${first ? JSON.stringify(first.reply) : 'nothing'}`);
      return result;
    }
    const tid = first.from;
    if (o.mode === 'vanish') {
      const port = peer.port;
      peer.close();
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, (o.reopenAfterMs ?? 0) - (performance.now() - first.at))),
      );
      peer = await Peer.open(port);
    }
    if (o.mode === 'silent' || o.mode === 'vanish') {
      for (;;) {
        const got = await peer.next(o.listenMs ?? 10_000);
        if (!got) break;
        result.arrivals.push(Math.round(got.at - first.at));
      }
      return result;
    }
    const withheld = new Set(o.mode === 'withhold-acks' ? (o.blocks ?? []) : []);
    const gap = o.mode === 'window-gap' ? o.blocks?.[0] : undefined;
    let gapAckedAt: number | undefined;
    const seenAt = new Map<number, number>();
    const parts = new Map<number, Buffer>();
    let expected = 1;
    let inWindow = 0;
    const send = (block: number) => {
      for (let i = 0; i < (o.mode === 'duplicate-acks' ? (o.copies ?? 3) : 1); i++)
        peer.send(ack(block & 0xffff), tid.port, tid.address);
    };
    send(0);
    for (;;) {
      const got = await peer.next(5000);
      if (!got) {
        result.problems.push(`no DATA ${expected} within 5 s`);
        return result;
      }
      if (got.reply.op !== 'DATA') {
        result.problems.push(`got ${got.reply.op} at block ${expected}`);
        return result;
      }
      if (fuzzer && result.dataPackets === 2)
        for (let i = 0; i < 200; i++) peer.send(garbage(i, true), tid.port, tid.address);
      result.dataPackets++;
      // Absolute block: the one expected or a repeat of an earlier one, with the 16-bit wrap.
      const block = expected - ((expected - got.reply.block) & 0xffff);
      const previous = seenAt.get(block);
      if (previous !== undefined) result.repeats.push({ block, afterMs: Math.round(got.at - previous) });
      seenAt.set(block, got.at);
      // A lock-step client answers a repeat of the block it has with that block's ACK again.
      if (block === expected - 1 && !o.windowsize) send(block);
      if (block !== expected) continue; // a repeat, or a block past a gap: not acknowledged
      if (gap === block && gapAckedAt !== undefined && result.recoveryMs === undefined)
        result.recoveryMs = Math.round(got.at - gapAckedAt);
      if (gap === block && gapAckedAt === undefined) {
        // Lost: everything after it in this window is discarded; the ACK of the block before tells the server.
        gapAckedAt = performance.now();
        seenAt.delete(block);
        result.dataPackets--;
        send(block - 1);
        inWindow = 0;
        continue;
      }
      parts.set(block, Buffer.from(got.reply.data));
      const last = got.reply.data.length < blksize;
      expected++;
      inWindow++;
      if (withheld.delete(block)) continue;
      if (last || !o.windowsize || inWindow === o.windowsize) {
        send(block);
        inWindow = 0;
      }
      if (last) break;
    }
    const bytes = Buffer.concat([...parts.keys()].sort((a, b) => a - b).map((k) => parts.get(k)!));
    const stray = await peer.next(300);
    if (stray) result.problems.push(`${stray.reply.op} after the last ACK`);
    return {
      ...result,
      ok: result.problems.length === 0,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      blocks: parts.size,
    };
  } finally {
    peer.close();
    fuzzer?.close();
  }
}

/**
 * Random datagrams, truncated requests and packets with valid opcodes but broken bodies. Inside a
 * transfer, nothing that could be a real ERROR or ACK (those have a meaning) is sent.
 */
function garbage(i: number, inTransfer = false): Buffer {
  for (;;) {
    const g = shape(i++);
    if (!inTransfer || !(g[0] === 0 && (g[1] === 5 || (g[1] === 4 && g.length === 4)))) return g;
  }
}

function shape(i: number): Buffer {
  const shapes = [
    () => randomBytes(Math.floor(Math.random() * 100)),
    () => Buffer.from([0, 1, ...randomBytes(Math.floor(Math.random() * 20))]),
    () => Buffer.from([0, 1, 0x61, 0x00]), // RRQ without a mode
    () => Buffer.from([0, 4, 0]),
    () => Buffer.from([0, 4, 0xff, 0xff, 0]),
    () => Buffer.from([0, 6, 0x61]),
    () => Buffer.from([0, 2, 0x61, 0, 0x6f, 0x63, 0x74, 0x65, 0x74, 0]),
    () => Buffer.from([0, Math.floor(Math.random() * 256)]),
    () => Buffer.alloc(0),
  ];
  return shapes[i % shapes.length]!();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await run(JSON.parse(process.argv[2] ?? '{}') as RogueOptions))}\n`);
}
