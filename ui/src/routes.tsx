import type { ComponentType } from 'react';
import { AccountPage } from './pages/account-page.js';
import { AuditPage } from './pages/audit-page.js';
import { BatchesPage } from './pages/batches-page.js';
import { DashboardPage } from './pages/dashboard-page.js';
import { DeploymentsPage } from './pages/deployments-page.js';
import { DevicePage } from './pages/device-page.js';
import { DevicesPage } from './pages/devices-page.js';
import { ImagesPage } from './pages/images-page.js';
import { SystemPage } from './pages/system-page.js';
import { TokensPage } from './pages/tokens-page.js';
import { UsersPage } from './pages/users-page.js';
import { VenuePage } from './pages/venue-page.js';
import { VenuesPage } from './pages/venues-page.js';

/** A page receives its path parameters (`/venues/:code` → `{ code }`). */
export type PageProps = { params: Record<string, string> };

export interface Route {
  path: string;
  title: string;
  page: ComponentType<PageProps>;
  /** listed in the top bar under this label */
  nav?: string;
  adminOnly?: boolean;
}

/** Every signed-in page; `/login` and `/setup` are shown by the shell before sign-in. */
export const ROUTES: Route[] = [
  { path: '/', title: 'Dashboard', page: DashboardPage, nav: 'Dashboard' },
  { path: '/venues', title: 'Venues', page: VenuesPage, nav: 'Venues' },
  { path: '/venues/:code', title: 'Venue', page: VenuePage },
  { path: '/batches', title: 'Batches', page: BatchesPage, nav: 'Batches' },
  { path: '/images', title: 'Images', page: ImagesPage, nav: 'Images' },
  { path: '/deployments', title: 'Deployments', page: DeploymentsPage, nav: 'Deployments' },
  { path: '/devices', title: 'Devices', page: DevicesPage, nav: 'Devices' },
  { path: '/devices/:serial', title: 'Device', page: DevicePage },
  { path: '/system', title: 'System', page: SystemPage, nav: 'System' },
  { path: '/users', title: 'Users', page: UsersPage, nav: 'Users', adminOnly: true },
  { path: '/tokens', title: 'API tokens', page: TokensPage, nav: 'Tokens', adminOnly: true },
  { path: '/audit', title: 'Audit log', page: AuditPage, nav: 'Audit', adminOnly: true },
  { path: '/account', title: 'Your account', page: AccountPage },
];
