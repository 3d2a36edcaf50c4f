import { useEffect, useRef, useState } from 'react';
import Type from 'typebox';
import type { FleetEvent } from '../../../src/protocol/events.js';
import { ImageImportInput, type Image } from '../../../src/protocol/images.js';
import { ApiError } from '../api/client.js';
import { uploadFile, type Upload } from '../api/upload.js';
import { EmptyState } from '../components/empty-state.js';
import { ImageDiffPanel } from '../components/image-diff.js';
import { Loaded } from '../components/load-state.js';
import { ConfirmDialog, Modal } from '../components/modal.js';
import { PageHeader } from '../components/page-header.js';
import { Table } from '../components/table.js';
import { UploadForm, type UploadProgress } from '../components/upload-form.js';
import { formatBytes, formatDateTime } from '../format.js';
import type { PageProps } from '../routes.js';
import { useLiveFleet } from '../state/live-fleet.js';
import { useApi, useRole, useSession } from '../state/session.js';
import { useToasts } from '../state/toasts.js';
import { useResource } from '../state/use-resource.js';
import { useSubmit } from '../state/use-submit.js';

/** What the upload form sends besides the file: the image record's own fields, same schema. */
const { product, version, notes } = ImageImportInput.properties;
const UploadMeta = Type.Object({ product, version, notes, file: Type.Unsafe<File>({ type: 'object' }) });
const UPLOAD_HINTS = { version: 'Letters, digits and . _ + - only, e.g. 2026.11.1', file: 'Choose the image file' };

/** Master images per product: upload, the active one, checksums, delete. */
export function ImagesPage(_: PageProps) {
  const api = useApi();
  const { writeHeaders } = useSession();
  const { canOperate } = useRole();
  const { notify } = useToasts();
  const images = useResource((signal) => api.images.list(undefined, signal), [api]);
  const products = useResource((signal) => api.products.list(signal), [api]);
  const [uploading, setUploading] = useState(false);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const upload = useRef<Upload<Image> | null>(null);
  const [deleting, setDeleting] = useState<{ image: Image; force: boolean; message?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [comparing, setComparing] = useState<Image | null>(null);
  const [compareFrom, setCompareFrom] = useState<number | null>(null);
  const others = (images.data ?? []).filter(
    (o) => comparing && o.product === comparing.product && o.id !== comparing.id,
  );
  const diff = useResource(
    (signal) =>
      comparing && compareFrom !== null ? api.images.diff(comparing.id, compareFrom, signal) : Promise.resolve(null),
    [api, comparing, compareFrom],
  );
  const compare = (image: Image) => {
    setComparing(image);
    setCompareFrom(images.data?.find((o) => o.product === image.product && o.id !== image.id)?.id ?? null);
  };
  const submit = useSubmit({
    schema: UploadMeta,
    hints: UPLOAD_HINTS,
    codeToField: { IMAGE_DUPLICATE: 'file', IMAGE_INPUT_INVALID: 'file', FLEET_PRODUCT_UNKNOWN: 'product' },
  });
  const { listen } = useLiveFleet();
  const uploadingNow = useRef<{ product: string; version: string } | null>(null);
  // While our upload is being stored, the server's own progress (analysing, storing) arrives live.
  useEffect(
    () =>
      listen((events) => {
        const mine = uploadingNow.current;
        const last = events
          .filter((e): e is FleetEvent<'image.progress'> => e.type === 'image.progress')
          .findLast((e) => e.data.product === mine?.product && e.data.version === mine.version);
        if (last)
          setProgress(
            (p) =>
              p && {
                ...p,
                serverPhase: last.data.phase,
                serverDoneBytes: last.data.doneBytes,
                serverTotalBytes: last.data.totalBytes,
              },
          );
      }),
    [listen],
  );

  async function act(image: Image, action: 'activate' | 'deactivate') {
    setBusy(true);
    try {
      await (action === 'activate' ? api.images.activate(image.id) : api.images.deactivate(image.id));
      notify(
        'success',
        action === 'activate'
          ? `${image.product} boards now get ${image.version}`
          : `${image.product} ${image.version} is no longer active; ${image.product} boards get no image until one is`,
      );
      images.reload();
    } catch (err) {
      notify('error', err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!deleting) return;
    setBusy(true);
    try {
      await api.images.remove(deleting.image.id, deleting.force);
      notify('success', `Image ${deleting.image.product} ${deleting.image.version} deleted`);
      setDeleting(null);
      images.reload();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'IMAGE_ACTIVE' && !deleting.force)
        setDeleting({ ...deleting, force: true, message: err.message });
      else {
        notify('error', err instanceof Error ? err.message : String(err));
        setDeleting(null);
      }
    } finally {
      setBusy(false);
    }
  }

  const closeUpload = () => {
    setUploading(false);
    setProgress(null);
    submit.clear();
  };
  const uploadButton = canOperate && (
    <button type="button" className="btn btn-primary" onClick={() => setUploading(true)}>
      Upload image
    </button>
  );

  return (
    <section className="page">
      <PageHeader title="Images" subtitle="The master image each product's boards receive" actions={uploadButton} />
      <Loaded resource={images}>
        {(list) =>
          list.length === 0 ? (
            <EmptyState title="No images yet" action={uploadButton}>
              <p>
                Upload the master image for each product (for example KXP2) and activate it; boards then receive it when
                they enroll.
              </p>
            </EmptyState>
          ) : (
            <Table<Image>
              caption="Images"
              rows={list}
              rowKey={(i) => i.id}
              rowClass={(i) => (i.active ? 'row-active' : undefined)}
              columns={[
                { header: 'Product', cell: (i) => i.product },
                { header: 'Version', cell: (i) => <strong>{i.version}</strong> },
                {
                  header: 'Status',
                  cell: (i) =>
                    i.active ? (
                      <span className="badge badge-success">active</span>
                    ) : (
                      <span className="muted">inactive</span>
                    ),
                },
                { header: 'Size', cell: (i) => formatBytes(i.sizeBytes), kind: 'num' },
                { header: 'Stored', cell: (i) => formatBytes(i.storedBytes), kind: 'num', optional: true },
                { header: 'OS', cell: (i) => i.osGeneration, optional: true },
                {
                  header: 'SHA-256',
                  cell: (i) => (
                    <code className="checksum" title={i.sha256}>
                      {i.sha256.slice(0, 12)}…
                    </code>
                  ),
                  optional: true,
                },
                { header: 'Added', cell: (i) => `${formatDateTime(i.createdAt)} from ${i.sourceName}`, optional: true },
                { header: 'Notes', cell: (i) => i.notes ?? '', optional: true },
                {
                  header: 'Actions',
                  kind: 'actions' as const,
                  cell: (i: Image) => (
                    <div className="row-actions">
                      <button
                        type="button"
                        className="btn btn-small"
                        aria-label={`Compare ${i.product} ${i.version} with another version`}
                        onClick={() => compare(i)}
                      >
                        Compare
                      </button>
                      {canOperate && (
                        <>
                          <button
                            type="button"
                            className="btn btn-small"
                            disabled={busy}
                            onClick={() => void act(i, i.active ? 'deactivate' : 'activate')}
                          >
                            {i.active ? 'Deactivate' : `Activate for ${i.product}`}
                          </button>
                          <button
                            type="button"
                            className="btn btn-small btn-danger-outline"
                            disabled={busy}
                            aria-label={`Delete ${i.product} ${i.version}`}
                            onClick={() => setDeleting({ image: i, force: false })}
                          >
                            Delete
                          </button>
                        </>
                      )}
                    </div>
                  ),
                },
              ]}
            />
          )
        }
      </Loaded>
      <Modal
        open={comparing !== null}
        title={comparing ? `${comparing.product} ${comparing.version}: what changed` : ''}
        onClose={() => setComparing(null)}
      >
        {comparing && <ImageDiffPanel others={others} fromId={compareFrom} onSelect={setCompareFrom} diff={diff} />}
      </Modal>
      <Modal open={uploading} title="Upload image" onClose={() => (progress ? undefined : closeUpload())}>
        {products.data && (
          <UploadForm
            products={products.data}
            errors={submit.errors}
            progress={progress}
            onClose={closeUpload}
            onCancelUpload={() => upload.current?.abort()}
            onSubmit={(e, value) =>
              void submit.handle(e, value, async () => {
                const file = value.file!;
                const started = Date.now();
                setProgress({ sentBytes: 0, totalBytes: file.size, bytesPerSecond: null, importing: false });
                uploadingNow.current = { product: value.product, version: value.version };
                const url = api.images.uploadUrl({
                  product: value.product,
                  version: value.version,
                  filename: file.name,
                  ...(value.notes && { notes: value.notes }),
                  ...(value.activate && { activate: true }),
                });
                upload.current = uploadFile<Image>(url, file, writeHeaders(), (sent, total) => {
                  const seconds = (Date.now() - started) / 1000;
                  setProgress((p) => ({
                    ...p,
                    sentBytes: sent,
                    totalBytes: total,
                    bytesPerSecond: seconds > 0.5 ? sent / seconds : null,
                    importing: sent >= total,
                  }));
                });
                try {
                  const image = await upload.current.done;
                  notify(
                    'success',
                    `Uploaded ${image.product} ${image.version} (${formatBytes(image.sizeBytes)})${image.active ? `; ${image.product} boards now get it` : '; activate it when you are ready'}`,
                  );
                  closeUpload();
                  images.reload();
                } finally {
                  setProgress(null);
                  upload.current = null;
                  uploadingNow.current = null;
                }
              })
            }
          />
        )}
      </Modal>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.image.product ?? ''} ${deleting?.image.version ?? ''}?`}
        confirmLabel={deleting?.force ? 'Delete anyway' : 'Delete image'}
        busy={busy}
        onConfirm={() => void remove()}
        onCancel={() => setDeleting(null)}
      >
        {deleting?.message ? (
          <p className="alert alert-warning">{deleting.message}</p>
        ) : (
          <p>The image file and its record are removed. Deployment history keeps its version number.</p>
        )}
      </ConfirmDialog>
    </section>
  );
}
