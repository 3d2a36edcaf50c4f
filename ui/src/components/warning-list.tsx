import { formatDateTime } from '../format.js';
import type { FleetWarning } from '../state/fleet-view.js';

/** Things the operator must act on (pool nearly exhausted, foreign DHCP server, disk space low). */
export function WarningList({
  warnings,
  onDismiss,
}: {
  warnings: readonly FleetWarning[];
  onDismiss: (key: string) => void;
}) {
  if (warnings.length === 0) return null;
  return (
    <section className="warnings" aria-label="Warnings">
      {warnings.map((w) => (
        <div key={w.key} className="alert alert-warning">
          <span>
            <strong>Warning:</strong> {w.message} <span className="muted">({formatDateTime(w.at)})</span>
          </span>
          <button
            type="button"
            className="btn btn-ghost"
            aria-label={`Dismiss warning: ${w.message}`}
            onClick={() => onDismiss(w.key)}
          >
            ×
          </button>
        </div>
      ))}
    </section>
  );
}
