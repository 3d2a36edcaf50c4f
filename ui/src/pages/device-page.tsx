import { useState, type FormEvent } from 'react';
import type { CaptureRequestInput } from '../../../src/protocol/capture.js';
import { CaptureForm } from '../components/capture-form.js';
import { DeploymentTable } from '../components/deployment-table.js';
import { EmptyState } from '../components/empty-state.js';
import { KeyValues } from '../components/key-values.js';
import { Loaded } from '../components/load-state.js';
import { ConfirmDialog, Modal } from '../components/modal.js';
import { PageHeader } from '../components/page-header.js';
import { formatDateTime } from '../format.js';
import { Link } from '../router.js';
import type { PageProps } from '../routes.js';
import { useLiveRefresh } from '../state/live-fleet.js';
import { useApi, useRole } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useResource } from '../state/use-resource.js';

/** One board: what it is, every deployment it went through, a re-image, and a capture of its card. */
export function DevicePage({ params }: PageProps) {
  const serial = params['serial'] ?? '';
  const api = useApi();
  const { canOperate } = useRole();
  const { notify } = useToasts();
  const device = useResource((signal) => api.devices.get(serial, signal), [api, serial]);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const products = useResource((signal) => api.products.list(signal), [api]);
  const captures = useResource((signal) => api.captures.list(signal), [api]);
  const [capturing, setCapturing] = useState(false);
  const [captureError, setCaptureError] = useState<string | undefined>();
  useLiveRefresh((e) => (e.data as { serial?: unknown }).serial === device.data?.device.serial, device.reload);
  useLiveRefresh((e) => e.type === 'capture.status', captures.reload);

  async function capture(e: FormEvent, value: CaptureRequestInput) {
    e.preventDefault();
    setBusy(true);
    try {
      const c = await api.captures.request(value);
      notify(
        'success',
        `Board ${serial} will be captured into ${c.product} ${c.version} when it next boots from the network`,
      );
      setCapturing(false);
      setCaptureError(undefined);
      captures.reload();
    } catch (err) {
      setCaptureError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

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
                  <>
                    <button type="button" className="btn" onClick={() => setCapturing(true)}>
                      Capture image
                    </button>
                    <button
                      type="button"
                      className="btn btn-primary"
                      disabled={d.reimageRequestedAt !== null}
                      onClick={() => setConfirming(true)}
                    >
                      {d.reimageRequestedAt ? 'Re-image requested' : 'Re-image'}
                    </button>
                  </>
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
                    'Capture',
                    (captures.data ?? [])
                      .filter((c) => c.serial === d.serial)
                      .slice(0, 1)
                      .map(
                        (c) =>
                          `${c.product} ${c.version}: ${c.status}${c.imageId ? ` (image ${c.imageId})` : ''}${c.error ? `: ${c.error}` : ''}`,
                      )[0] ?? 'none',
                  ],
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
      <Modal open={capturing} title={`Capture board ${serial}`} onClose={() => setCapturing(false)}>
        <p>
          At its next network boot the board reads its own card (only the bytes in use) and uploads it; the server makes
          a new image version of it, sanitised.
        </p>
        {products.data && (
          <CaptureForm
            serial={serial}
            products={products.data}
            busy={busy}
            error={captureError}
            onSubmit={(e, value) => void capture(e, value)}
            onCancel={() => setCapturing(false)}
          />
        )}
      </Modal>
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
