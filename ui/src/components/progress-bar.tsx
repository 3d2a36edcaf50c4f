/**
 * A determinate bar when the percentage is known, otherwise an indeterminate one (the phase says
 * what is happening). `tone` colours it by outcome.
 */
export function ProgressBar({ percent, label, tone = 'active' }: { percent: number | null; label: string; tone?: 'active' | 'success' | 'failed' | 'idle' }) {
  const known = percent !== null;
  return (
    <div
      className={`progress progress-${tone}${known ? '' : ' progress-indeterminate'}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      {...(known && { 'aria-valuenow': percent })}
    >
      <div className="progress-fill" style={{ width: `${known ? percent : 100}%` }} />
    </div>
  );
}
