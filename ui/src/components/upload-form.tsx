import { useState, type FormEvent } from 'react';
import type { Product } from '../../../src/protocol/fleet.js';
import { formatBytes, formatEta, formatRate, percentOf } from '../format.js';
import type { FormErrors } from '../state/form-errors.js';
import { Field, FormAlert } from './field.js';
import { ProductOptions } from './form-buttons.js';
import { ProgressBar } from './progress-bar.js';

export interface UploadValue {
  product: string;
  version: string;
  notes: string | null;
  activate: boolean;
  file: File | null;
}

export interface UploadProgress {
  sentBytes: number;
  totalBytes: number;
  bytesPerSecond: number | null;
  /** all bytes sent; the server is importing (decompressing, hashing, chunking) */
  importing: boolean;
  /** what the server says it is doing (`image.progress` events): receiving, reading, analysing, storing */
  serverPhase?: string;
  serverDoneBytes?: number;
  serverTotalBytes?: number | null;
}

const ACCEPT = '.img,.img.xz,.img.gz,.img.zst,.zip,.xz,.gz,.zst';

/** Upload a master image: file, product, version; shows the transfer's progress, speed and ETA. */
export function UploadForm({
  products,
  errors,
  progress,
  onSubmit,
  onCancelUpload,
  onClose,
}: {
  products: readonly Product[];
  errors: FormErrors;
  progress: UploadProgress | null;
  onSubmit: (event: FormEvent<HTMLFormElement>, value: UploadValue) => void;
  onCancelUpload: () => void;
  onClose: () => void;
}) {
  const [product, setProduct] = useState(products[0]?.code ?? '');
  const [version, setVersion] = useState('');
  const [notes, setNotes] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [activate, setActivate] = useState(false);
  const percent = progress ? percentOf(progress.sentBytes, progress.totalBytes) : null;
  const serverPercent = progress ? percentOf(progress.serverDoneBytes, progress.serverTotalBytes) : null;
  const eta = progress?.bytesPerSecond ? (progress.totalBytes - progress.sentBytes) / progress.bytesPerSecond : null;
  return (
    <form
      noValidate
      onSubmit={(e) => onSubmit(e, { product, version: version.trim(), notes: notes.trim() || null, activate, file })}
    >
      <FormAlert message={errors.form} />
      <Field
        label="Image file"
        name="file"
        error={errors.fields['file']}
        hint=".img, .img.xz, .img.gz, .img.zst or a .zip with one image inside"
      >
        {(p) => (
          <input
            {...p}
            type="file"
            accept={ACCEPT}
            disabled={progress !== null}
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
        )}
      </Field>
      <Field label="Product" name="product" error={errors.fields['product']}>
        {(p) => (
          <select {...p} value={product} disabled={progress !== null} onChange={(e) => setProduct(e.target.value)}>
            <ProductOptions products={products} />
          </select>
        )}
      </Field>
      <Field
        label="Version"
        name="version"
        error={errors.fields['version']}
        hint="e.g. 2026.11.1 (letters, digits, . _ + -)"
      >
        {(p) => (
          <input
            {...p}
            value={version}
            autoComplete="off"
            disabled={progress !== null}
            onChange={(e) => setVersion(e.target.value)}
          />
        )}
      </Field>
      <Field label="Notes (optional)" name="notes" error={errors.fields['notes']}>
        {(p) => <input {...p} value={notes} disabled={progress !== null} onChange={(e) => setNotes(e.target.value)} />}
      </Field>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={activate}
          disabled={progress !== null}
          onChange={(e) => setActivate(e.target.checked)}
        />{' '}
        Activate once stored (boards of this product get it from then on)
      </label>
      {progress && (
        <div className="upload-progress" role="status">
          <ProgressBar
            percent={progress.importing ? serverPercent : percent}
            label={
              progress.importing ? `Server: ${progress.serverPhase ?? 'importing'}` : `Uploading: ${percent ?? 0}%`
            }
          />
          <p className="small">
            {progress.importing
              ? `Uploaded; the server is ${progress.serverPhase ?? 'checking and storing the image'}${progress.serverDoneBytes !== undefined ? ` (${formatBytes(progress.serverDoneBytes)})` : ''}…`
              : `${formatBytes(progress.sentBytes)} of ${formatBytes(progress.totalBytes)} · ${formatRate(progress.bytesPerSecond)} · ETA ${formatEta(eta)}`}
          </p>
        </div>
      )}
      <div className="form-actions">
        {progress ? (
          <button type="button" className="btn" onClick={onCancelUpload} disabled={progress.importing}>
            Cancel upload
          </button>
        ) : (
          <button type="button" className="btn" onClick={onClose}>
            Close
          </button>
        )}
        <button type="submit" className="btn btn-primary" disabled={progress !== null}>
          Upload
        </button>
      </div>
    </form>
  );
}
