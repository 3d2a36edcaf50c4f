import type { Deployment } from '../../../src/protocol/fleet.js';
import { formatDateTime, formatDuration, secondsBetween } from '../format.js';
import { Link } from '../router.js';
import { PhaseBadge } from './phase-badge.js';
import { Table } from './table.js';

/** Deployments as rows: who, where, outcome, when, how long, why it failed. */
export function DeploymentTable({
  rows,
  caption,
  showBoard = true,
}: {
  rows: readonly Deployment[];
  caption: string;
  showBoard?: boolean;
}) {
  return (
    <Table<Deployment>
      caption={caption}
      rows={rows}
      rowKey={(d) => d.id}
      rowClass={(d) => (d.status === 'failed' ? 'row-failed' : undefined)}
      columns={[
        { header: '#', cell: (d) => d.id, kind: 'num', optional: true },
        ...(showBoard
          ? [
              { header: 'Hostname', cell: (d: Deployment) => <Link to={`/devices/${d.serial}`}>{d.hostname}</Link> },
              { header: 'Serial', cell: (d: Deployment) => d.serial, optional: true },
            ]
          : [{ header: 'Hostname', cell: (d: Deployment) => d.hostname }]),
        { header: 'Venue', cell: (d) => d.venue },
        { header: 'Product', cell: (d) => d.product, optional: true },
        { header: 'Status', cell: (d) => <PhaseBadge phase={d.status} /> },
        { header: 'IP', cell: (d) => d.ip ?? '', optional: true },
        { header: 'Started', cell: (d) => formatDateTime(d.enrolledAt) },
        {
          header: 'Took',
          cell: (d) => (d.finishedAt ? formatDuration(secondsBetween(d.enrolledAt, d.finishedAt, 0)) : ''),
          optional: true,
        },
        { header: 'Error', cell: (d) => (d.error ? <span className="text-failed">{d.error}</span> : '') },
      ]}
    />
  );
}
