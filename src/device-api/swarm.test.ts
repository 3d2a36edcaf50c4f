import { describe, expect, it } from 'vitest';
import { SwarmTracker } from './swarm.js';

const url = (id: number) => `http://198.18.1.${id}:4000`;

describe('SwarmTracker', () => {
  it('builds a tree of the given fan-out in join order, the first board fed by the server', () => {
    const t = new SwarmTracker(2);
    const parents = [1, 2, 3, 4, 5, 6, 7].map((id) => t.join(9, id, url(id)).parent?.peerId ?? null);
    expect(parents).toEqual([null, 1, 1, 2, 2, 3, 3]);
  });

  it('keeps one token per image and separate trees per image', () => {
    const t = new SwarmTracker(2);
    const a = t.join(1, 1, url(1));
    const b = t.join(2, 2, url(2));
    expect(b.parent).toBeNull();
    expect(t.join(1, 3, url(3)).swarmToken).toBe(a.swarmToken);
    expect(b.swarmToken).not.toBe(a.swarmToken);
  });

  it('drops a board reported unreachable; its orphans re-join elsewhere and never below themselves', () => {
    const t = new SwarmTracker(2);
    for (const id of [1, 2, 3, 4, 5]) t.join(9, id, url(id));
    // 2 and 3 were fed by 1; 4 and 5 by 2. The root dies.
    const two = t.join(9, 2, url(2), { peerId: 1, fault: 'unreachable' });
    expect(two.parent?.peerId).toBe(3);
    const three = t.join(9, 3, url(3), { peerId: 1, fault: 'unreachable' });
    // 3 feeds 2, which feeds 4 and 5: none of them may feed 3.
    expect(three.parent).toBeNull();
    // A new board is never given the dead one.
    expect(t.join(9, 6, url(6)).parent?.peerId).not.toBe(1);
  });

  it('a board that complains of a corrupt parent is not given it again; others still are', () => {
    const t = new SwarmTracker(3);
    t.join(9, 1, url(1));
    expect(t.join(9, 2, url(2)).parent?.peerId).toBe(1);
    expect(t.join(9, 2, url(2), { peerId: 1, fault: 'corrupt' }).parent).toBeNull();
    expect(t.join(9, 3, url(3)).parent?.peerId).toBe(1);
  });

  it('a finished board leaves: boards that join later are not given it', () => {
    const t = new SwarmTracker(2);
    t.join(9, 1, url(1));
    t.join(9, 2, url(2));
    t.leave(1);
    expect(t.join(9, 3, url(3)).parent?.peerId).toBe(2);
  });
});
