import type { ReactNode } from 'react';

/** A load that failed, with the server's message and a retry. */
export function LoadError({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  return (
    <div className="alert alert-error" role="alert">
      <p>{error.message}</p>
      {onRetry && (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="loading" role="status">
      {what}…
    </p>
  );
}

/** Renders `children(data)` once loaded; the spinner or the error otherwise. */
export function Loaded<T>({
  resource,
  children,
}: {
  resource: { data: T | undefined; error: Error | undefined; reload: () => void };
  children: (data: T) => ReactNode;
}) {
  if (resource.error && resource.data === undefined)
    return <LoadError error={resource.error} onRetry={resource.reload} />;
  if (resource.data === undefined) return <Loading />;
  return <>{children(resource.data)}</>;
}
