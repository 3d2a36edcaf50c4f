import { describe, expect, it } from 'vitest';
import { BoundedMap } from './bounded-map.js';

const keysOf = (m: BoundedMap<string, number>, all: string[]) => all.filter((k) => m.get(k) !== undefined);

describe('BoundedMap', () => {
  it('forgets the oldest entry once past its limit', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('c', 3);
    expect(m.size).toBe(2);
    expect(m.get('a')).toBeUndefined();
    expect(m.get('b')).toBe(2);
    expect(m.get('c')).toBe(3);
  });

  it('counts a read as use, so the entry read last is kept', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2);
    expect(m.get('a')).toBe(1);
    m.set('c', 3);
    expect(keysOf(m, ['a', 'b', 'c'])).toEqual(['a', 'c']);
  });

  it('counts a write of a kept key as use and does not grow', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('a', 10);
    expect(m.size).toBe(2);
    m.set('c', 3);
    expect(m.get('a')).toBe(10);
    expect(m.get('b')).toBeUndefined();
  });

  it('deletes a key, freeing its place', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2);
    expect(m.delete('a')).toBe(true);
    expect(m.delete('a')).toBe(false);
    m.set('c', 3);
    expect(keysOf(m, ['a', 'b', 'c'])).toEqual(['b', 'c']);
  });

  it('stays within its limit under many distinct keys', () => {
    const m = new BoundedMap<string, number>(100);
    for (let i = 0; i < 10_000; i++) m.set(`k${i}`, i);
    expect(m.size).toBe(100);
    expect(m.get('k9900')).toBe(9900);
    expect(m.get('k9899')).toBeUndefined();
  });
});
