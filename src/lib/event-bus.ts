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
