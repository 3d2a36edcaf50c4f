import { useState } from 'react';
import { DeploymentTable } from '../components/deployment-table.js';
import { EmptyState } from '../components/empty-state.js';
import { KeyValues } from '../components/key-values.js';
import { Loaded } from '../components/load-state.js';
import { ConfirmDialog } from '../components/modal.js';
import { PageHeader } from '../components/page-header.js';
import { formatDateTime } from '../format.js';
import { Link } from '../router.js';
import type { PageProps } from '../routes.js';
import { useLiveRefresh } from '../state/live-fleet.js';
import { useApi, useRole } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useResource } from '../state/use-resource.js';

/** One board: what it is, every deployment it went through, and a re-image. */
export function DevicePage({ params }: PageProps) {
  const serial = params['serial'] ?? '';
  const api = useApi();
  const { canOperate } = useRole();
  const { notify } = useToasts();
  const device = useResource((signal) => api.devices.get(serial, signal), [api, serial]);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  useLiveRefresh((e) => (e.data as { serial?: unknown }).serial === device.data?.device.serial, device.reload);

  async function reimage() {
    setBusy(true);
    try {
      await api.devices.reimage(serial);
      notify('success', `Board ${serial} will be re-imaged the next time it boots from the network`);
      device.reload();
    } catch (err) {
      notify('error', err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <section className="page">
      <p>
        <Link to="/devices">← All devices</Link>
      </p>
      <Loaded resource={device}>
        {({ device: d, deployments }) => (
          <>
            <PageHeader
              title={d.hostname ?? `Board ${d.serial}`}
              subtitle={`Serial ${d.serial}`}
              actions={
                canOperate && (
                  <button
                    type="button"
                    className="btn btn-primary"
                    disabled={d.reimageRequestedAt !== null}
                    onClick={() => setConfirming(true)}
                  >
                    {d.reimageRequestedAt ? 'Re-image requested' : 'Re-image'}
                  </button>
                )
              }
            />
            <section className="card">
              <KeyValues
                items={[
                  ['Serial', d.serial],
                  ['Hostname', d.hostname ?? 'none held'],
                  ['MAC addresses', d.macs.join(', ') || 'unknown'],
                  ['Model', d.model ?? 'unknown'],
                  ['First seen', formatDateTime(d.firstSeenAt)],
                  ['Last seen', formatDateTime(d.lastSeenAt)],
                  [
                    'Re-image',
                    d.reimageRequestedAt
                      ? `requested ${formatDateTime(d.reimageRequestedAt)}; power-cycle the board`
                      : 'not requested',
                  ],
                ]}
              />
            </section>
            <section className="card" aria-labelledby="history-title">
              <h2 id="history-title">Deployments</h2>
              {deployments.length === 0 ? (
                <EmptyState title="This board has not been deployed yet" />
              ) : (
                <DeploymentTable rows={deployments} caption={`Deployments of ${d.serial}`} showBoard={false} />
              )}
            </section>
          </>
        )}
      </Loaded>
      <ConfirmDialog
        open={confirming}
        title={`Re-image board ${serial}?`}
        confirmLabel="Re-image"
        busy={busy}
        onConfirm={() => void reimage()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          The board is offered network boot again and keeps its hostname. Its card is overwritten when it next boots
          from the network.
        </p>
      </ConfirmDialog>
    </section>
  );
}
