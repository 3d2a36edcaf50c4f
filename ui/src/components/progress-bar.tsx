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
      {/* scaleX, not width: moving 500 bars must not make the browser lay the page out again */}
      <div className="progress-fill" style={known ? { transform: `scaleX(${percent / 100})` } : undefined} />
    </div>
  );
}
