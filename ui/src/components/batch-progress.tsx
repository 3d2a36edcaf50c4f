import type { Batch } from '../../../src/protocol/fleet.js';
import { percentOf } from '../format.js';
import { ProgressBar } from './progress-bar.js';

/** A batch's way to its expected count: succeeded of expected, with failures and boards in flight. */
export function BatchProgress({ batch }: { batch: Batch }) {
  const percent = percentOf(batch.succeeded, batch.expectedCount) ?? 0;
  const inFlight = Math.max(0, batch.assigned - batch.succeeded - batch.failed);
  const label = `Batch ${batch.id}${batch.name ? ` (${batch.name})` : ''}`;
  return (
    <div className="batch-progress">
      <div className="batch-progress-head">
        <span>
          {label}: {batch.venue} · {batch.product}
        </span>
        <span className={`badge badge-batch-${batch.status}`}>{batch.status}</span>
      </div>
      <ProgressBar
        percent={percent}
        tone={batch.status === 'completed' ? 'success' : 'active'}
        label={`${label}: ${batch.succeeded} of ${batch.expectedCount} done`}
      />
      <div className="batch-progress-figures">
        <span>
          <strong>{batch.succeeded}</strong> / {batch.expectedCount} done
        </span>
        <span>{inFlight} in progress</span>
        <span>
          {batch.assigned} / {batch.expectedCount} named
        </span>
        <span className={batch.failed > 0 ? 'text-failed' : undefined}>{batch.failed} failed</span>
      </div>
    </div>
  );
}
