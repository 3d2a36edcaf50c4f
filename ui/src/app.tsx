import { Component, useEffect, type ErrorInfo, type ReactNode } from 'react';
import { LiveIndicator } from './components/live-indicator.js';
import { Loading } from './components/load-state.js';
import { NavBar } from './components/nav-bar.js';
import { ToastList } from './components/toast-list.js';
import { ErrorPage, ForbiddenPage, NotFoundPage, UnreachablePage } from './pages/error-pages.js';
import { LoginPage } from './pages/login-page.js';
import { SetupPage } from './pages/setup-page.js';
import { matchPath, RouterProvider, useRouter } from './router.js';
import { ROUTES } from './routes.js';
import { LiveFleetProvider, useLiveFleet } from './state/live-fleet.js';
import { SessionProvider, useRole, useSession } from './state/session.js';
import { ToastProvider, useToasts } from './state/toasts.js';

/** A crash in one page shows an error page with a way back, not a blank screen. */
class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, { error: Error | null }> {
  override state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override componentDidUpdate(prev: { resetKey: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }
  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('page crashed', error, info.componentStack);
  }
  override render() {
    return this.state.error ? <ErrorPage error={this.state.error} /> : this.props.children;
  }
}

function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · rpi-deploy`;
  }, [title]);
}

function SignedIn() {
  const { location } = useRouter();
  const { logout } = useSession();
  const { username, role, isAdmin } = useRole();
  const { status } = useLiveFleet();
  const { notify } = useToasts();
  const found = ROUTES.map((r) => ({ route: r, params: matchPath(r.path, location.path) })).find(
    (m) => m.params !== undefined,
  );
  useTitle(found?.route.title ?? 'Not found');
  const nav = ROUTES.filter((r) => r.nav && (!r.adminOnly || isAdmin)).map((r) => ({ path: r.path, label: r.nav! }));
  const Page = found?.route.page;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <NavBar
        items={nav}
        currentPath={location.path}
        user={`${username} · ${role}`}
        status={<LiveIndicator status={status} />}
        onLogout={() =>
          void logout().then(
            () => notify('info', 'Logged out'),
            (err: Error) => notify('error', `Logout failed: ${err.message}`),
          )
        }
      />
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={location.path}>
          {!found || !Page ? (
            <NotFoundPage />
          ) : found.route.adminOnly && !isAdmin ? (
            <ForbiddenPage />
          ) : (
            <Page params={found.params!} />
          )}
        </ErrorBoundary>
      </main>
    </>
  );
}

function Shell() {
  const { state } = useSession();
  const { location } = useRouter();
  useTitle(state.kind === 'signed-out' ? (state.setupNeeded ? 'First-time setup' : 'Log in') : 'rpi-deploy');
  switch (state.kind) {
    case 'loading':
      return (
        <main id="main" className="centered">
          <Loading what="Connecting to the server" />
        </main>
      );
    case 'unreachable':
      return <UnreachablePage error={state.error} />;
    case 'signed-out':
      return state.setupNeeded || location.path === '/setup' ? <SetupPage /> : <LoginPage expired={state.expired} />;
    case 'signed-in':
      return <SignedIn />;
  }
}

function Toasts() {
  const { toasts, dismiss } = useToasts();
  return <ToastList toasts={toasts} onDismiss={dismiss} />;
}

export function App() {
  return (
    <RouterProvider>
      <ToastProvider>
        <SessionProvider>
          <LiveFleetProvider>
            <Shell />
          </LiveFleetProvider>
        </SessionProvider>
        <Toasts />
      </ToastProvider>
    </RouterProvider>
  );
}
