import type { LiveStatus } from '../api/live.js';

const TEXT: Record<LiveStatus['state'], string> = {
  connecting: 'Connecting…',
  live: 'Live',
  offline: 'Reconnecting',
  unauthorized: 'Signed out',
  closed: 'Stopped',
};

/** Whether the dashboard is receiving events, and why not. */
export function LiveIndicator({ status }: { status: LiveStatus }) {
  const detail = status.state === 'offline' && status.reason ? `: ${status.reason}` : '';
  return (
    <span className={`live live-${status.state}`} role="status" title={`${TEXT[status.state]}${detail}`}>
      <span className="live-dot" aria-hidden="true" />
      {TEXT[status.state]}
      {detail && <span className="sr-only">{detail}</span>}
    </span>
  );
}
