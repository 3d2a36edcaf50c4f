import { createEmit, type EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { FleetEvent, FleetEvents, FleetEventType } from '../protocol/events.js';
import type { Db, Store } from '../store/index.js';
import { appendHistory } from './history.repo.js';

/** What every fleet service is built from. */
export interface FleetDeps {
  store: Store;
  events: EventBus<FleetEvent>;
  log: Logger;
  clock: () => Date;
}

/**
 * Collects the events of one transaction. `record` writes the history row inside the transaction,
 * so history and state commit together; nothing is published until the commit succeeded.
 */
export class Outbox {
  readonly events: FleetEvent[] = [];
  /** Stamps with the transaction's time, the one its history rows carry. */
  readonly #emit = createEmit<FleetEvents>({ publish: (e) => this.events.push(e) }, () => new Date(this.now));

  constructor(
    private readonly tx: Db,
    readonly now: string,
  ) {}

  async record<K extends FleetEventType>(
    type: K,
    data: FleetEvents[K],
    refs: { deploymentId?: number; serial?: string | null } = {},
  ): Promise<void> {
    const seq = await appendHistory(this.tx, {
      at: this.now,
      type,
      deploymentId: refs.deploymentId ?? null,
      serial: refs.serial ?? null,
      data,
    });
    this.#emit(type, data, seq);
  }

  /** An event for the live stream only (warnings, progress): not kept in the history. */
  announce<K extends FleetEventType>(type: K, data: FleetEvents[K]): void {
    this.#emit(type, data);
  }
}

/** Runs `fn` in one write transaction and publishes its events once it committed. */
export async function unitOfWork<T>(deps: FleetDeps, fn: (tx: Db, out: Outbox) => Promise<T>): Promise<T> {
  let outbox: Outbox | undefined;
  const result = await deps.store.transaction(async (tx) => {
    outbox = new Outbox(tx, deps.clock().toISOString());
    return fn(tx, outbox);
  });
  for (const event of outbox?.events ?? []) deps.events.publish(event);
  return result;
}
