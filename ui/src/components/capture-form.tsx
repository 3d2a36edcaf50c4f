import { useState, type FormEvent } from 'react';
import type { CaptureRequestInput } from '../../../src/protocol/capture.js';
import { SANITISE_STEPS, type SanitiseStep } from '../../../src/protocol/sanitise.js';
import type { Product } from '../../../src/protocol/fleet.js';
import { Field } from './field.js';
import { CancelSubmit, ProductOptions } from './form-buttons.js';

/**
 * What a golden board's capture becomes: the product and version of the new image, notes, and
 * the sanitise steps to skip (all run by default: a copied identity clashes on the venue network).
 */
export function CaptureForm({
  serial,
  products,
  busy,
  error,
  onSubmit,
  onCancel,
}: {
  serial: string;
  products: readonly Product[];
  busy: boolean;
  error?: string | undefined;
  onSubmit: (e: FormEvent, value: CaptureRequestInput) => void;
  onCancel: () => void;
}) {
  const [product, setProduct] = useState(products[0]?.code ?? '');
  const [version, setVersion] = useState('');
  const [notes, setNotes] = useState('');
  const [keep, setKeep] = useState<SanitiseStep[]>([]);
  const toggle = (step: SanitiseStep) =>
    setKeep((k) => (k.includes(step) ? k.filter((s) => s !== step) : [...k, step]));
  return (
    <form
      onSubmit={(e) => onSubmit(e, { serial, product, version: version.trim(), notes: notes.trim() || null, keep })}
    >
      <Field label="Product" name="product">
        {(p) => (
          <select {...p} value={product} onChange={(e) => setProduct(e.target.value)}>
            <ProductOptions products={products} />
          </select>
        )}
      </Field>
      <Field label="Version" name="version" error={error} hint="of the new image, e.g. 1.1.0">
        {(p) => <input {...p} required value={version} onChange={(e) => setVersion(e.target.value)} />}
      </Field>
      <Field label="Notes" name="notes">
        {(p) => <input {...p} value={notes} onChange={(e) => setNotes(e.target.value)} />}
      </Field>
      <fieldset>
        <legend>Keep (skip these sanitise steps)</legend>
        {SANITISE_STEPS.map((step) => (
          <label key={step}>
            <input type="checkbox" checked={keep.includes(step)} onChange={() => toggle(step)} /> {step}
          </label>
        ))}
      </fieldset>
      <CancelSubmit label="Capture at next netboot" busyLabel="Marking…" busy={busy} onCancel={onCancel} />
    </form>
  );
}
