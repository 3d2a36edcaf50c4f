import { useState, type ReactNode } from 'react';
import { Link } from '../router.js';

export interface NavItem {
  path: string;
  label: string;
}

/**
 * The top bar: the sections, who is signed in, and log out. On a phone the sections fold into a
 * menu button so the board list keeps the screen.
 */
export function NavBar({
  items,
  currentPath,
  user,
  status,
  onLogout,
}: {
  items: NavItem[];
  currentPath: string;
  user: string;
  status?: ReactNode;
  onLogout: () => void;
}) {
  const [open, setOpen] = useState(false);
  const isCurrent = (path: string) =>
    path === '/' ? currentPath === '/' : currentPath === path || currentPath.startsWith(`${path}/`);
  return (
    <header className="topbar">
      <div className="topbar-row">
        <Link to="/" className="brand" onClick={() => setOpen(false)}>
          rpi-deploy
        </Link>
        {status}
        <button
          type="button"
          className="btn btn-ghost menu-toggle"
          aria-expanded={open}
          aria-controls="main-nav"
          onClick={() => setOpen(!open)}
        >
          Menu
        </button>
      </div>
      <nav id="main-nav" className={`nav${open ? ' nav-open' : ''}`} aria-label="Sections">
        <ul>
          {items.map((item) => (
            <li key={item.path}>
              <Link
                to={item.path}
                aria-current={isCurrent(item.path) ? 'page' : undefined}
                onClick={() => setOpen(false)}
              >
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
        <div className="nav-user">
          <Link to="/account" className="muted" aria-label={`Your account: ${user}`} onClick={() => setOpen(false)}>
            {user}
          </Link>
          <button type="button" className="btn btn-small" onClick={onLogout}>
            Log out
          </button>
        </div>
      </nav>
    </header>
  );
}
