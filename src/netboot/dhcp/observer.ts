import type { Logger } from '../../lib/logger.js';
import type { FleetEvents, FleetEventType } from '../../protocol/events.js';

/**
 * What the DHCP server tells the rest of rpi-deploy. Durable events (a board seen, an address
 * declined, a foreign server) go to the history; the chatty ones (every offer, ack, nak) are
 * published on the live stream only.
 */
export interface DhcpEventSink {
  record<K extends FleetEventType>(type: K, data: FleetEvents[K]): Promise<void>;
  publish<K extends FleetEventType>(type: K, data: FleetEvents[K]): void;
}

/** A board powering on sends DISCOVERs every few seconds until answered: one `dhcp.seen` per minute is enough. */
export const SEEN_REPEAT_MS = 60_000;
const SEEN_MEMORY_MAX = 10_000;

export interface DhcpObserver {
  seen(data: FleetEvents['dhcp.seen']): void;
  publish<K extends 'dhcp.offer' | 'dhcp.ack' | 'dhcp.nak' | 'dhcp.warning'>(type: K, data: FleetEvents[K]): void;
  record<K extends 'dhcp.declined' | 'dhcp.foreign-server'>(type: K, data: FleetEvents[K]): void;
}

export function createDhcpObserver(sink: DhcpEventSink, log: Logger, clock: () => number = Date.now): DhcpObserver {
  const lastSeen = new Map<string, number>();
  const keep = <K extends FleetEventType>(type: K, data: FleetEvents[K]) => {
    // A history write that fails must not stop DHCP: boards still boot, the operator sees the log.
    sink.record(type, data).catch((err: unknown) => log.error({ err, event: type }, 'could not record a DHCP event'));
  };
  return {
    seen(data) {
      const now = clock();
      const key = `${data.mac}/${data.netboot}`;
      if (now - (lastSeen.get(key) ?? -Infinity) < SEEN_REPEAT_MS) return;
      if (lastSeen.size >= SEEN_MEMORY_MAX) {
        for (const [k, at] of lastSeen) if (now - at >= SEEN_REPEAT_MS) lastSeen.delete(k);
        if (lastSeen.size >= SEEN_MEMORY_MAX) lastSeen.clear();
      }
      lastSeen.set(key, now);
      keep('dhcp.seen', data);
    },
    publish(type, data) {
      sink.publish(type, data);
    },
    record(type, data) {
      keep(type, data);
    },
  };
}
