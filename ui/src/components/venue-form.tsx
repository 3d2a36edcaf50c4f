import { useState, type FormEvent } from 'react';
import type { Venue, VenueInput } from '../../../src/protocol/fleet.js';
import type { FormErrors } from '../state/form-errors.js';
import { Field, FormAlert } from './field.js';
import { CancelSubmit } from './form-buttons.js';

export const VENUE_HINTS = { code: '4 characters, A–Z and 0–9, e.g. CORO; part of every hostname' };
/** Server errors about the code belong next to the code field. */
export const VENUE_CODE_FIELDS = { FLEET_VENUE_CODE_INVALID: 'code', FLEET_VENUE_EXISTS: 'code' };

/** Create (with a code) or edit (code fixed) a venue; the page sends it and passes back errors. */
export function VenueForm({
  venue,
  errors,
  busy,
  onSubmit,
  onCancel,
}: {
  venue?: Venue;
  errors: FormErrors;
  busy: boolean;
  onSubmit: (event: FormEvent<HTMLFormElement>, value: VenueInput) => void;
  onCancel: () => void;
}) {
  const [code, setCode] = useState(venue?.code ?? '');
  const [name, setName] = useState(venue?.name ?? '');
  const [location, setLocation] = useState(venue?.location ?? '');
  const [contact, setContact] = useState(venue?.contact ?? '');
  const value: VenueInput = {
    code: code.trim().toUpperCase(),
    name: name.trim(),
    location: location.trim() || null,
    contact: contact.trim() || null,
  };
  return (
    <form noValidate onSubmit={(e) => onSubmit(e, value)}>
      <FormAlert message={errors.form} />
      {!venue && (
        <Field label="Code" name="code" error={errors.fields['code']} hint={VENUE_HINTS.code}>
          {(p) => (
            <input
              {...p}
              value={code}
              maxLength={16}
              autoCapitalize="characters"
              autoComplete="off"
              onChange={(e) => setCode(e.target.value)}
            />
          )}
        </Field>
      )}
      <Field label="Name" name="name" error={errors.fields['name']}>
        {(p) => <input {...p} value={name} autoComplete="off" onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Location (optional)" name="location" error={errors.fields['location']}>
        {(p) => <input {...p} value={location} onChange={(e) => setLocation(e.target.value)} />}
      </Field>
      <Field label="Contact (optional)" name="contact" error={errors.fields['contact']}>
        {(p) => <input {...p} value={contact} onChange={(e) => setContact(e.target.value)} />}
      </Field>
      <CancelSubmit
        label={venue ? 'Save changes' : 'Create venue'}
        busyLabel="Saving…"
        busy={busy}
        onCancel={onCancel}
      />
    </form>
  );
}
