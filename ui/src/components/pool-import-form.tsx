import { useState, type FormEvent } from 'react';
import type { PoolImportResult } from '../../../src/protocol/fleet.js';
import type { FormErrors } from '../state/form-errors.js';
import { Field, FormAlert } from './field.js';
import { PoolImportPreview } from './pool-import-preview.js';

export type ImportSource = 'range' | 'paste' | 'file';

/** Turns what the operator entered into the text the import route parses (ranges, lists, CSV). */
export function importText(
  source: ImportSource,
  input: { from: string; to: string; pasted: string; fileText: string },
): string {
  if (source === 'range')
    return input.from.trim() && input.to.trim() ? `${input.from.trim()}-${input.to.trim()}` : input.from.trim();
  return source === 'paste' ? input.pasted : input.fileText;
}

const SOURCES: { id: ImportSource; label: string }[] = [
  { id: 'range', label: 'Range' },
  { id: 'paste', label: 'Paste a list' },
  { id: 'file', label: 'CSV file' },
];

/**
 * Bulk import of kart numbers in two steps: Preview (a dry run that marks duplicates and invalid
 * lines) and then Import, which writes exactly what was previewed. Changing the input drops the
 * preview, so nobody commits something they have not seen. When the preview says most lines are
 * invalid (the wrong file or column), Import stays off until the operator confirms; the import
 * then goes with `force`.
 */
export function PoolImportForm({
  product,
  preview,
  committed,
  errors,
  busy,
  onPreview,
  onCommit,
  onChange,
}: {
  product: string;
  preview: PoolImportResult | null;
  committed: boolean;
  errors: FormErrors;
  busy: boolean;
  onPreview: (event: FormEvent<HTMLFormElement>, value: { text: string }) => void;
  onCommit: (options: { force: boolean }) => void;
  onChange: () => void;
}) {
  // Confirmation belongs to one preview: a new preview asks again.
  const [confirmedFor, setConfirmedFor] = useState<PoolImportResult | null>(null);
  const needsConfirm = preview?.confirm !== undefined;
  const confirmed = needsConfirm && confirmedFor === preview;
  const [source, setSource] = useState<ImportSource>('range');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [pasted, setPasted] = useState('');
  const [fileText, setFileText] = useState('');
  const [fileName, setFileName] = useState('');
  const changed =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      onChange();
    };
  const text = importText(source, { from, to, pasted, fileText });

  return (
    <form className="pool-import" noValidate onSubmit={(e) => onPreview(e, { text })}>
      <fieldset className="segmented">
        <legend>Numbers for {product} from</legend>
        {SOURCES.map((s) => (
          <label key={s.id} className={source === s.id ? 'active' : undefined}>
            <input
              type="radio"
              name="source"
              value={s.id}
              checked={source === s.id}
              onChange={() => changed(setSource)(s.id)}
            />
            {s.label}
          </label>
        ))}
      </fieldset>
      <FormAlert message={errors.form} />
      {source === 'range' && (
        <div className="field-row">
          <Field label="From number" name="from" error={errors.fields['text']}>
            {(p) => (
              <input {...p} inputMode="numeric" value={from} onChange={(e) => changed(setFrom)(e.target.value)} />
            )}
          </Field>
          <Field label="To number" name="to">
            {(p) => <input {...p} inputMode="numeric" value={to} onChange={(e) => changed(setTo)(e.target.value)} />}
          </Field>
        </div>
      )}
      {source === 'paste' && (
        <Field
          label="Kart numbers"
          name="pasted"
          error={errors.fields['text']}
          hint="One per line, or separated by commas; ranges like 1-60 work too"
        >
          {(p) => <textarea {...p} rows={6} value={pasted} onChange={(e) => changed(setPasted)(e.target.value)} />}
        </Field>
      )}
      {source === 'file' && (
        <Field
          label="CSV file"
          name="file"
          error={errors.fields['text']}
          hint={
            fileName
              ? `Loaded ${fileName}`
              : 'A header such as kart_number selects that column; otherwise the first column is used'
          }
        >
          {(p) => (
            <input
              {...p}
              type="file"
              accept=".csv,.txt,text/csv,text/plain"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (!file) return;
                setFileName(file.name);
                void file.text().then(changed(setFileText));
              }}
            />
          )}
        </Field>
      )}
      {preview && !committed && needsConfirm && (
        <div className="alert alert-warning" role="alert">
          <p>{preview.confirm}</p>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={confirmed}
              onChange={(e) => setConfirmedFor(e.target.checked ? preview : null)}
            />{' '}
            This is the right file: import the {preview.added} valid number{preview.added === 1 ? '' : 's'} anyway
          </label>
        </div>
      )}
      <div className="form-actions">
        <button type="submit" className="btn" disabled={busy}>
          {busy && !preview ? 'Checking…' : 'Preview'}
        </button>
        {preview && !committed && (
          <button
            type="button"
            className="btn btn-primary"
            disabled={busy || preview.added === 0 || (needsConfirm && !confirmed)}
            onClick={() => onCommit({ force: confirmed })}
          >
            {busy ? 'Importing…' : `Import ${preview.added} number${preview.added === 1 ? '' : 's'}`}
          </button>
        )}
      </div>
      {preview && <PoolImportPreview result={preview} committed={committed} />}
    </form>
  );
}
