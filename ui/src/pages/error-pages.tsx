import type { ApiError } from '../api/client.js';
import { EmptyState } from '../components/empty-state.js';
import { Link } from '../router.js';
import { useSession } from '../state/session.js';

/** Pages for when there is nothing to show: unknown address, not allowed, crashed, server down. */

export function NotFoundPage() {
  return (
    <section className="page">
      <h1>Page not found</h1>
      <EmptyState
        title="There is no page at this address."
        action={
          <Link to="/" className="btn btn-primary">
            Go to the dashboard
          </Link>
        }
      >
        <p>Check the link, or pick a section from the menu.</p>
      </EmptyState>
    </section>
  );
}

export function ForbiddenPage() {
  return (
    <section className="page">
      <h1>Not allowed</h1>
      <EmptyState
        title="This page is for administrators."
        action={
          <Link to="/" className="btn">
            Go to the dashboard
          </Link>
        }
      >
        <p>Ask an administrator if you need access.</p>
      </EmptyState>
    </section>
  );
}

export function ErrorPage({ error }: { error: Error }) {
  return (
    <section className="page">
      <h1>Something went wrong</h1>
      <div className="alert alert-error" role="alert">
        <p>This page failed: {error.message}</p>
      </div>
      <p>
        The deployment on the boards is not affected. Reload the page; if it keeps failing, the server log has the
        details.
      </p>
      <button type="button" className="btn btn-primary" onClick={() => window.location.reload()}>
        Reload
      </button>
    </section>
  );
}

export function UnreachablePage({ error }: { error: ApiError }) {
  const { retry } = useSession();
  return (
    <main id="main" className="centered">
      <section className="card narrow">
        <h1>Cannot reach rpi-deploy</h1>
        <div className="alert alert-error" role="alert">
          <p>{error.message}</p>
        </div>
        <p>Is `rpi-deploy serve` running, and is this laptop on the management network?</p>
        <button type="button" className="btn btn-primary" onClick={retry}>
          Try again
        </button>
      </section>
    </main>
  );
}
