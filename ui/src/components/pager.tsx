/** Previous / next over offset-limit pages, with where we are in words. */
export function Pager({
  offset,
  limit,
  shown,
  hasMore,
  onPage,
}: {
  offset: number;
  limit: number;
  shown: number;
  hasMore: boolean;
  onPage: (offset: number) => void;
}) {
  if (offset === 0 && !hasMore) return null;
  return (
    <nav className="pager" aria-label="Pages">
      <button
        type="button"
        className="btn btn-small"
        disabled={offset === 0}
        onClick={() => onPage(Math.max(0, offset - limit))}
      >
        Previous
      </button>
      <span>{shown === 0 ? 'none' : `${offset + 1}–${offset + shown}`}</span>
      <button type="button" className="btn btn-small" disabled={!hasMore} onClick={() => onPage(offset + limit)}>
        Next
      </button>
    </nav>
  );
}
