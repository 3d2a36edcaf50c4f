import type { Logger } from './logger.js';

/** A listener; a throwing listener is logged and never stops delivery to the others. */
export type Listener<E> = (event: E) => void;

/**
 * The in-process event stream: synchronous fan-out to every subscriber. Publishers do not know
 * who listens; listeners that need buffering (a slow WebSocket) keep their own bounded queue.
 */
export interface EventBus<E> {
  publish(event: E): void;
  subscribe(listener: Listener<E>): () => void;
}

export function createEventBus<E>(log: Logger): EventBus<E> {
  const listeners = new Set<Listener<E>>();
  return {
    publish(event) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (err) {
          log.error({ err, event }, 'event listener failed');
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * An event as it travels: a payload of the event map `M`, stamped with its type and the time it
 * happened; `seq` is its place in the history when it was also kept there, null for live-only.
 */
export interface Envelope<M, K extends keyof M = keyof M> {
  seq: number | null;
  at: string;
  type: K;
  data: M[K];
}

export type Emit<M> = <K extends keyof M>(type: K, data: M[K], seq?: number | null) => void;

/**
 * The one place an envelope is built: `emit(type, data)` stamps the time from `clock`, injected so
 * that tests (and a transaction, which stamps its whole outbox with its own time) decide what "now" is.
 */
export function createEmit<M>(bus: Pick<EventBus<Envelope<M>>, 'publish'>, clock: () => Date): Emit<M> {
  return (type, data, seq = null) => bus.publish({ seq, at: clock().toISOString(), type, data });
}
