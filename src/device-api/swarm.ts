import { randomBytes } from 'node:crypto';
import type { PeerFault, PeerParent } from '../protocol/peers.js';

/** How many boards one board feeds: a Pi's 1 GbE upload carries several times what its card takes in. */
export const PEER_FANOUT = 3;

interface Member {
  peerId: number;
  url: string;
  parent: Member | null;
  children: Set<Member>;
  /** Parents this board reported as corrupt or slow: never given to it again. */
  avoid: Set<number>;
}

interface Swarm {
  token: string;
  /** In join order: the earliest boards are nearest the root, so they are the furthest ahead. */
  members: Member[];
}

/**
 * The tracker, in memory: one tree of boards per image. The first board to join fetches from the
 * server; each later one gets the earliest board that has a free slot, is not below it in the tree
 * (no cycles) and that it has not complained about. A board reported unreachable leaves the tree;
 * its children learn it when their next request fails, and re-join. Lost on a restart, which only
 * sends boards back to the server until they re-join.
 */
export class SwarmTracker {
  private readonly swarms = new Map<number, Swarm>();

  constructor(private readonly fanout = PEER_FANOUT) {}

  join(
    imageId: number,
    peerId: number,
    url: string,
    failed?: { peerId: number; fault: PeerFault },
  ): { swarmToken: string; parent: PeerParent | null } {
    let swarm = this.swarms.get(imageId);
    if (!swarm) {
      swarm = { token: randomBytes(32).toString('base64url'), members: [] };
      this.swarms.set(imageId, swarm);
    }
    let me = swarm.members.find((m) => m.peerId === peerId);
    if (!me) {
      me = { peerId, url, parent: null, children: new Set(), avoid: new Set() };
      swarm.members.push(me);
    }
    me.url = url;
    if (failed && failed.peerId !== peerId) {
      if (failed.fault === 'unreachable') this.remove(swarm, failed.peerId);
      else me.avoid.add(failed.peerId);
    }
    me.parent?.children.delete(me);
    me.parent = null;
    const below = this.subtree(me);
    const parent = swarm.members.find((m) => !below.has(m) && !me.avoid.has(m.peerId) && m.children.size < this.fanout);
    if (parent) {
      me.parent = parent;
      parent.children.add(me);
    }
    return { swarmToken: swarm.token, parent: parent ? { peerId: parent.peerId, url: parent.url } : null };
  }

  /** A finished deployment's board stops serving: it leaves its swarm. */
  leave(peerId: number): void {
    for (const swarm of this.swarms.values()) this.remove(swarm, peerId);
  }

  private remove(swarm: Swarm, peerId: number): void {
    const gone = swarm.members.find((m) => m.peerId === peerId);
    if (!gone) return;
    swarm.members.splice(swarm.members.indexOf(gone), 1);
    gone.parent?.children.delete(gone);
    for (const child of gone.children) child.parent = null;
  }

  private subtree(root: Member): Set<Member> {
    const out = new Set<Member>([root]);
    const todo = [root];
    for (let m = todo.pop(); m; m = todo.pop())
      for (const c of m.children)
        if (!out.has(c)) {
          out.add(c);
          todo.push(c);
        }
    return out;
  }
}
