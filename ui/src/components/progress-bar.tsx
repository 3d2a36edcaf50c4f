/**
 * A determinate bar when the percentage is known, otherwise an indeterminate one (the phase says
 * what is happening). `tone` colours it by outcome. `partPercent` draws, lighter and behind the
 * bar, work that is under way but not yet confirmed (bytes written, before they were read back);
 * `valueText` then says both in words for assistive technology.
 */
export function ProgressBar({
  percent,
  partPercent,
  label,
  valueText,
  tone = 'active',
}: {
  percent: number | null;
  partPercent?: number | null | undefined;
  label: string;
  valueText?: string | undefined;
  tone?: 'active' | 'success' | 'failed' | 'idle';
}) {
  const known = percent !== null;
  const hasPart = known && partPercent !== null && partPercent !== undefined;
  return (
    <div
      className={`progress progress-${tone}${known ? '' : ' progress-indeterminate'}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      {...(known && { 'aria-valuenow': percent })}
      {...(known && valueText !== undefined && { 'aria-valuetext': valueText })}
    >
      {/* scaleX, not width: moving 500 bars must not make the browser lay the page out again */}
      {hasPart && (
        <div className="progress-part" style={{ transform: `scaleX(${Math.max(partPercent, percent) / 100})` }} />
      )}
      <div className="progress-fill" style={known ? { transform: `scaleX(${percent / 100})` } : undefined} />
    </div>
  );
}
