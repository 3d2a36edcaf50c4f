import { useState, type FormEvent } from 'react';
import type { BatchInput, Product, Venue } from '../../../src/protocol/fleet.js';
import type { FormErrors } from '../state/form-errors.js';
import { Field, FormAlert } from './field.js';
import { CancelSubmit, ProductOptions } from './form-buttons.js';

/** Server errors that belong to one field of the batch form. */
export const BATCH_CODE_FIELDS = {
  FLEET_VENUE_UNKNOWN: 'venue',
  FLEET_VENUE_CODE_INVALID: 'venue',
  FLEET_PRODUCT_UNKNOWN: 'product',
};

/** A new batch: venue, product, how many boards, priority; optionally activated at once. */
export function BatchForm({
  venues,
  products,
  initialVenue,
  errors,
  busy,
  onSubmit,
  onCancel,
}: {
  venues: readonly Venue[];
  products: readonly Product[];
  initialVenue?: string;
  errors: FormErrors;
  busy: boolean;
  onSubmit: (event: FormEvent<HTMLFormElement>, value: BatchInput, activate: boolean) => void;
  onCancel: () => void;
}) {
  const [venue, setVenue] = useState(initialVenue ?? venues[0]?.code ?? '');
  const [product, setProduct] = useState(products[0]?.code ?? '');
  const [count, setCount] = useState('');
  const [priority, setPriority] = useState('0');
  const [name, setName] = useState('');
  const [activate, setActivate] = useState(true);
  const value = {
    venue,
    product,
    expectedCount: count.trim() === '' ? '' : Number(count),
    priority: priority.trim() === '' ? 0 : Number(priority),
    name: name.trim() || null,
  } as BatchInput;
  return (
    <form noValidate onSubmit={(e) => onSubmit(e, value, activate)}>
      <FormAlert message={errors.form} />
      <Field label="Venue" name="venue" error={errors.fields['venue']}>
        {(p) => (
          <select {...p} value={venue} onChange={(e) => setVenue(e.target.value)}>
            {venues.map((v) => (
              <option key={v.code} value={v.code}>
                {v.code} · {v.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Product" name="product" error={errors.fields['product']}>
        {(p) => (
          <select {...p} value={product} onChange={(e) => setProduct(e.target.value)}>
            <ProductOptions products={products} />
          </select>
        )}
      </Field>
      <Field
        label="Number of boards"
        name="expectedCount"
        error={errors.fields['expectedCount']}
        hint="The batch completes when this many boards succeeded"
      >
        {(p) => <input {...p} inputMode="numeric" value={count} onChange={(e) => setCount(e.target.value)} />}
      </Field>
      <Field
        label="Priority"
        name="priority"
        error={errors.fields['priority']}
        hint="With several active batches, boards go to the highest priority first"
      >
        {(p) => <input {...p} inputMode="numeric" value={priority} onChange={(e) => setPriority(e.target.value)} />}
      </Field>
      <Field label="Name (optional)" name="name" error={errors.fields['name']}>
        {(p) => (
          <input {...p} value={name} placeholder="e.g. Saturday morning" onChange={(e) => setName(e.target.value)} />
        )}
      </Field>
      <label className="checkbox">
        <input type="checkbox" checked={activate} onChange={(e) => setActivate(e.target.checked)} /> Activate now
        (boards are named from it at once)
      </label>
      <CancelSubmit label="Create batch" busyLabel="Creating…" busy={busy} onCancel={onCancel} />
    </form>
  );
}
