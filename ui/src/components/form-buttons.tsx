import type { Product } from '../../../src/protocol/fleet.js';

/** The end of a form with nothing to cancel: its submit button, saying what it is doing while busy. */
export function Submit({ label, busyLabel, busy }: { label: string; busyLabel: string; busy: boolean }) {
  return (
    <div className="form-actions">
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {busy ? busyLabel : label}
      </button>
    </div>
  );
}

/** The end of a dialog form: Cancel, and the submit button that says what it is doing while busy. */
export function CancelSubmit({
  label,
  busyLabel,
  busy,
  onCancel,
}: {
  label: string;
  busyLabel: string;
  busy: boolean;
  onCancel: () => void;
}) {
  return (
    <div className="form-actions">
      <button type="button" className="btn" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {busy ? busyLabel : label}
      </button>
    </div>
  );
}

/** The options of a product select: code and name. */
export function ProductOptions({ products }: { products: readonly Product[] }) {
  return products.map((x) => (
    <option key={x.code} value={x.code}>
      {x.code} · {x.name}
    </option>
  ));
}
