import { describe, expect, it } from 'vitest';
import { createEmit, createEventBus, type Envelope } from './event-bus.js';
import { createLogger } from './logger.js';

type Events = { 'a.happened': { n: number }; 'b.happened': { s: string } };

describe('createEmit', () => {
  it('stamps each event with its type and the injected clock, live-only unless given a history seq', () => {
    const bus = createEventBus<Envelope<Events>>(createLogger('silent'));
    const seen: Envelope<Events>[] = [];
    bus.subscribe((e) => seen.push(e));
    let now = new Date('2026-01-02T03:04:05.678Z');
    const emit = createEmit<Events>(bus, () => now);
    emit('a.happened', { n: 1 });
    now = new Date('2026-01-02T03:04:06.000Z');
    emit('b.happened', { s: 'x' }, 42);
    expect(seen).toEqual([
      { seq: null, at: '2026-01-02T03:04:05.678Z', type: 'a.happened', data: { n: 1 } },
      { seq: 42, at: '2026-01-02T03:04:06.000Z', type: 'b.happened', data: { s: 'x' } },
    ]);
  });
});
