import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { EnrollReply } from '../../src/protocol/agent-api.js';
import { v1Paths } from '../../src/protocol/agent-api.js';
import { peerPaths, type PeerJoinReply } from '../../src/protocol/peers.js';
import { cardFile, NODE24, runAgentProcess, type AgentRun } from './agent.js';

/**
 * Fleet mode in a test: boards as the bundled agent on Node 24 (zstd, so they take part), each in
 * its own process with its own card file, all against one server; and a hostile board that joins
 * a swarm and serves corrupt chunks. The bench's lab (bench/fleet) adds namespaces, shaped links
 * and throttled cards; this keeps to what a CI runner has.
 */
export interface SwarmBoard {
  serial: string;
  card: string;
  proc: ReturnType<typeof runAgentProcess>;
  run?: AgentRun;
}

export function startBoards(o: {
  server: string;
  dir: string;
  count: number;
  cardBytes: number;
  firstSerial: number;
  extraArgs?: string[];
}): SwarmBoard[] {
  if (!NODE24) throw new Error("fleet mode needs the boards' Node 24: run node scripts/fetch-node-runtime.mjs");
  return Array.from({ length: o.count }, (_, i) => {
    const serial = (o.firstSerial + i).toString(16);
    const card = cardFile(join(o.dir, `card-${serial}.img`), o.cardBytes);
    const args = ['--server', o.server, '--target', card, '--serial', serial, '--quiet', ...(o.extraArgs ?? [])];
    return { serial, card, proc: runAgentProcess(args, { node: NODE24, timeoutMs: 300_000 }) };
  });
}

/**
 * A board that enrolls like any other, joins its image's swarm first (so it is the tree's root and
 * feeds the next boards) and answers every chunk with the right length of wrong bytes.
 */
export async function startHostilePeer(o: {
  server: string;
  serial: string;
  venue: string;
  product: string;
}): Promise<{ served: () => number; close(): Promise<void> }> {
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(new URL(path, o.server), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const enrolled = (await post(v1Paths.enroll, {
    serial: o.serial,
    macs: [],
    storageBytes: 64 * 1024 ** 3,
    venue: o.venue,
    product: o.product,
  })) as EnrollReply;
  const sizes = new Map(enrolled.plan.manifest.chunks.map((c) => [c.storedSha256, c.storedBytes]));
  let served = 0;
  const server: Server = createServer((req, res) => {
    const size = sizes.get(/([0-9a-f]{64})$/.exec(req.url ?? '')?.[1] ?? '');
    if (size === undefined) return res.writeHead(404).end();
    served++;
    res.writeHead(200, { 'content-encoding': 'zstd', 'content-length': size });
    res.end(randomBytes(size));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const reply = (await post(
    peerPaths.join(enrolled.deploymentId),
    { port: (server.address() as AddressInfo).port },
    enrolled.token,
  )) as PeerJoinReply;
  if (!reply.enabled || reply.parent !== null)
    throw new Error(`the hostile peer was to be the swarm's root: ${JSON.stringify(reply)}`);
  return {
    served: () => served,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
