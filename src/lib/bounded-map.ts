/**
 * A Map that keeps at most `limit` entries, forgetting the least recently used one past it: the
 * bound on every in-memory cache, so that no stream of new keys can grow one without end.
 * Reading (`get`) and writing (`set`) a key both count as using it.
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(readonly limit: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    if (!this.#entries.has(key)) return undefined;
    const value = this.#entries.get(key)!;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: K, value: V): this {
    // A Map iterates in insertion order: re-inserting moves the key to the most recently used end.
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.limit) this.#entries.delete(this.#entries.keys().next().value!);
    return this;
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }
}
