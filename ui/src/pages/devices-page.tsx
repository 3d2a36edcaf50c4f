import { useState } from 'react';
import type { Device } from '../../../src/protocol/fleet.js';
import { EmptyState } from '../components/empty-state.js';
import { Loaded } from '../components/load-state.js';
import { PageHeader } from '../components/page-header.js';
import { Table } from '../components/table.js';
import { formatDateTime } from '../format.js';
import { Link } from '../router.js';
import type { PageProps } from '../routes.js';
import { useApi } from '../state/session.js';
import { useResource } from '../state/use-resource.js';

/** Every board ever seen, to find one by serial, MAC or name. */
export function DevicesPage(_: PageProps) {
  const api = useApi();
  const devices = useResource((signal) => api.devices.list(signal), [api]);
  const [search, setSearch] = useState('');
  const needle = search.trim().toLowerCase();
  const match = (d: Device) =>
    needle === '' ||
    [d.serial, d.hostname ?? '', d.model ?? '', ...d.macs].some((v) => v.toLowerCase().includes(needle));
  return (
    <section className="page">
      <PageHeader title="Devices" subtitle="Every board rpi-deploy has seen, with its history across deployments" />
      <div className="filters">
        <input
          type="search"
          className="search"
          aria-label="Find a board by serial, MAC, hostname or model"
          placeholder="Serial, MAC, hostname"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      <Loaded resource={devices}>
        {(list) =>
          list.length === 0 ? (
            <EmptyState title="No boards seen yet">
              <p>
                Boards appear here once they have enrolled. Power one on in the deployment network with an active batch.
              </p>
            </EmptyState>
          ) : (
            <Table<Device>
              caption="Devices"
              rows={list.filter(match)}
              rowKey={(d) => d.serial}
              columns={[
                { header: 'Serial', cell: (d) => <Link to={`/devices/${d.serial}`}>{d.serial}</Link> },
                { header: 'Hostname', cell: (d) => d.hostname ?? <span className="muted">none</span> },
                { header: 'MAC', cell: (d) => d.macs.join(', '), optional: true },
                { header: 'Model', cell: (d) => d.model ?? '', optional: true },
                { header: 'Last seen', cell: (d) => formatDateTime(d.lastSeenAt) },
                {
                  header: 'Re-image',
                  cell: (d) => (d.reimageRequestedAt ? `requested ${formatDateTime(d.reimageRequestedAt)}` : ''),
                  optional: true,
                },
              ]}
            />
          )
        }
      </Loaded>
    </section>
  );
}
