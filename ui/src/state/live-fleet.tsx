import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { FleetEvent } from '../../../src/protocol/events.js';
import type { Deployment } from '../../../src/protocol/fleet.js';
import { subscribeLive, type LiveStatus } from '../api/live.js';
import { applyEvent, dismissWarning, EMPTY_FLEET, mergeSnapshot, type FleetView } from './fleet-view.js';
import { useSession } from './session.js';

/**
 * The app's one live subscription, open while someone is signed in and kept across page changes,
 * so the dashboard never starts from nothing. Events are applied in batches every
 * `LIVE_FLUSH_MS`: 500 boards reporting twice a second become four renders a second, not 1000.
 */
export const LIVE_FLUSH_MS = 250;

type EventsListener = (events: readonly FleetEvent[]) => void;

interface LiveFleetValue {
  view: FleetView;
  status: LiveStatus;
  /** folds a snapshot of deployments (from the REST API) into the view */
  addSnapshot(deployments: readonly Deployment[]): void;
  dismissWarning: (key: string) => void;
  /** pages that refresh on events (batches, images) listen here; returns the unsubscribe */
  listen: (listener: EventsListener) => () => void;
  /** bumps each time a connection has caught up (after a reconnect): refetch snapshots then */
  readyCount: number;
}

const LiveFleetContext = createContext<LiveFleetValue | null>(null);

export function LiveFleetProvider({ children }: { children: ReactNode }) {
  const { state, expire } = useSession();
  const signedIn = state.kind === 'signed-in';
  const [view, setView] = useState<FleetView>(EMPTY_FLEET);
  const [status, setStatus] = useState<LiveStatus>({ state: 'closed', lastSeq: null, failures: 0 });
  const [readyCount, setReadyCount] = useState(0);
  const listeners = useRef(new Set<EventsListener>());
  const lastSeq = useRef<number | null>(null);

  useEffect(() => {
    if (!signedIn) return;
    let queue: FleetEvent[] = [];
    const flush = setInterval(() => {
      if (queue.length === 0) return;
      const batch = queue;
      queue = [];
      setView((v) => batch.reduce(applyEvent, v));
      for (const l of listeners.current) l(batch);
    }, LIVE_FLUSH_MS);
    const sub = subscribeLive({
      after: lastSeq.current,
      onEvent: (e) => queue.push(e),
      onReady: () => setReadyCount((n) => n + 1),
      onStatus: (s) => {
        lastSeq.current = s.lastSeq;
        setStatus(s);
        if (s.state === 'unauthorized') expire();
      },
    });
    // A laptop waking from sleep or a phone back on Wi-Fi: reconnect now, not at the next retry.
    const wake = () => document.visibilityState === 'visible' && sub.status().state === 'offline' && sub.reconnect();
    document.addEventListener('visibilitychange', wake);
    window.addEventListener('online', wake);
    return () => {
      sub.close();
      clearInterval(flush);
      document.removeEventListener('visibilitychange', wake);
      window.removeEventListener('online', wake);
    };
  }, [signedIn, expire]);

  const addSnapshot = useCallback(
    (deployments: readonly Deployment[]) => setView((v) => mergeSnapshot(v, deployments)),
    [],
  );
  const dismiss = useCallback((key: string) => setView((v) => dismissWarning(v, key)), []);
  const listen = useCallback((listener: EventsListener) => {
    listeners.current.add(listener);
    return () => void listeners.current.delete(listener);
  }, []);
  const value = useMemo(
    () => ({ view, status, addSnapshot, dismissWarning: dismiss, listen, readyCount }),
    [view, status, addSnapshot, dismiss, listen, readyCount],
  );
  return <LiveFleetContext.Provider value={value}>{children}</LiveFleetContext.Provider>;
}

export function useLiveFleet(): LiveFleetValue {
  const value = useContext(LiveFleetContext);
  if (!value) throw new Error('useLiveFleet outside LiveFleetProvider');
  return value;
}

/**
 * Calls `onEvents` for live events matching `filter`, at most once per flush: pages use it to
 * reload what the events change (a batch's counts, an image's import).
 */
export function useLiveRefresh(filter: (e: FleetEvent) => boolean, onEvents: () => void): void {
  const { listen } = useLiveFleet();
  const latest = useRef({ filter, onEvents });
  latest.current = { filter, onEvents };
  useEffect(
    () => listen((events) => events.some((e) => latest.current.filter(e)) && latest.current.onEvents()),
    [listen],
  );
}
