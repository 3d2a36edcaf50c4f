import { KeyValues } from '../components/key-values.js';
import { Loaded } from '../components/load-state.js';
import { PageHeader } from '../components/page-header.js';
import { ProgressBar } from '../components/progress-bar.js';
import { formatBytes, formatDuration, percentOf } from '../format.js';
import type { PageProps } from '../routes.js';
import { useApi } from '../state/session.js';
import { useResource } from '../state/use-resource.js';

/** The server itself: where it listens, network boot, disk space, the preflight checks, versions. */
export function SystemPage(_: PageProps) {
  const api = useApi();
  const system = useResource((signal) => api.system.get(signal), [api]);
  return (
    <section className="page">
      <PageHeader
        title="System"
        actions={
          <button type="button" className="btn" onClick={system.reload}>
            Refresh
          </button>
        }
      />
      <Loaded resource={system}>
        {(s) => {
          const used = s.disk.totalBytes - s.disk.freeBytes;
          return (
            <div className="grid-2">
              <section className="card" aria-labelledby="net-title">
                <h2 id="net-title">Listeners and network boot</h2>
                <KeyValues
                  items={[
                    ['Device API (boards)', s.listeners.device ?? 'not listening'],
                    ['Management (this UI)', s.listeners.management ?? 'not listening'],
                    ['DHCP', s.dhcp.enabled ? `on, ${s.dhcp.mode ?? 'unknown'} mode` : 'off'],
                    [
                      'Deployment interface',
                      s.dhcp.interface ?? 'not set (network boot is off until netboot.interface is configured)',
                    ],
                    ['TFTP', s.netboot.tftp ? `serving on ${s.netboot.tftp.address}:${s.netboot.tftp.port}` : 'off'],
                    [
                      'Stage-1 boot files',
                      s.netboot.stage1
                        ? `built ${new Date(s.netboot.stage1.builtAt).toLocaleString()}`
                        : 'not built: run rpi-deploy netboot build',
                    ],
                    ['Live dashboards connected', s.liveClients],
                  ]}
                />
              </section>
              <section className="card" aria-labelledby="disk-title">
                <h2 id="disk-title">Disk</h2>
                <ProgressBar
                  percent={percentOf(used, s.disk.totalBytes)}
                  tone={s.disk.low ? 'failed' : 'idle'}
                  label={`Disk ${percentOf(used, s.disk.totalBytes) ?? 0}% used`}
                />
                {s.disk.low && (
                  <p className="alert alert-warning" role="status">
                    Disk space is low: delete old images or free space on {s.disk.path}.
                  </p>
                )}
                {!s.database.ok && (
                  <p className="alert alert-error" role="alert">
                    The database is not ok: {s.database.error ?? 'see the server log'}
                  </p>
                )}
                <KeyValues
                  items={[
                    ['Data directory', s.disk.path],
                    ['Used', `${percentOf(used, s.disk.totalBytes) ?? 0}%`],
                    ['Free', formatBytes(s.disk.freeBytes)],
                    ['Total', formatBytes(s.disk.totalBytes)],
                    [
                      'Database',
                      `${s.database.ok ? 'ok' : 'NOT OK'} · schema ${s.database.schemaVersion ?? 'unknown'} · ${formatBytes(s.database.sizeBytes)}`,
                    ],
                  ]}
                />
              </section>
              <section className="card" aria-labelledby="doctor-title">
                <h2 id="doctor-title">Preflight checks</h2>
                {s.doctor === null ? (
                  <p>Not run yet.</p>
                ) : (
                  <>
                    <p>
                      As <code>rpi-deploy doctor</code> sees this server,{' '}
                      {new Date(s.doctor.ranAt).toLocaleTimeString()}.
                    </p>
                    <ul className="doctor-checks">
                      {s.doctor.checks.map((c) => (
                        <li key={c.id}>
                          <span className={`badge badge-doctor-${c.status}`}>{c.status}</span> {c.summary}
                          {c.fix && <div className="doctor-fix">What to do: {c.fix}</div>}
                        </li>
                      ))}
                    </ul>
                  </>
                )}
              </section>
              <section className="card" aria-labelledby="version-title">
                <h2 id="version-title">Versions</h2>
                <KeyValues
                  items={[
                    ['rpi-deploy', s.version],
                    ['Node.js', s.node],
                    ['Up for', formatDuration(s.uptimeSeconds)],
                  ]}
                />
              </section>
            </div>
          );
        }}
      </Loaded>
    </section>
  );
}
