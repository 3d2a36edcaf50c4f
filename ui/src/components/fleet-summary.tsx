import { formatBytes, formatEta, formatRate } from '../format.js';
import type { FleetSummary as Summary } from '../state/fleet-view.js';

/**
 * The fleet view while boards are imaging: what the cards take in together, what the server's
 * link carries (in MB/s: the server does not know the link's capacity), and the batch's time left.
 */
export function FleetSummary({ summary, linkBytesPerSecond }: { summary: Summary; linkBytesPerSecond: number | null }) {
  return (
    <dl className="fleet-summary">
      <div>
        <dt>Boards imaging</dt>
        <dd data-testid="fleet-imaging">{summary.imaging}</dd>
      </div>
      <div>
        <dt>Aggregate write rate</dt>
        <dd data-testid="fleet-rate">{formatRate(summary.bytesPerSecond)}</dd>
      </div>
      <div>
        <dt>Server link</dt>
        <dd data-testid="fleet-link">{linkBytesPerSecond === 0 ? '0 B/s' : formatRate(linkBytesPerSecond)}</dd>
      </div>
      <div>
        <dt>Batch time left</dt>
        <dd data-testid="fleet-eta">
          {formatEta(summary.etaSeconds)}
          {summary.remainingBytes > 0 && (
            <span className="fleet-note"> ({formatBytes(summary.remainingBytes)} to go)</span>
          )}
        </dd>
      </div>
    </dl>
  );
}
