import { useCallback, useState, type FormEvent } from 'react';
import type { TSchema } from 'typebox';
import { apiFormErrors, hasErrors, schemaFieldErrors, type FormErrors } from './form-errors.js';

export interface SubmitOptions {
  /** the request schema the server validates with; checked first, in the browser */
  schema?: TSchema;
  /** words for pattern errors, per field */
  hints?: Record<string, string>;
  /** domain error codes that belong to one field (FLEET_VENUE_EXISTS → code) */
  codeToField?: Record<string, string>;
}

const NO_ERRORS: FormErrors = { fields: {} };

/**
 * One form's submit cycle: validate, send, show errors next to their fields and focus the first
 * one (keyboard and screen-reader users land on what to fix), report the outcome.
 */
export function useSubmit(options: SubmitOptions = {}) {
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const { schema, hints, codeToField } = options;

  const handle = useCallback(
    async (event: FormEvent<HTMLFormElement>, value: unknown, action: () => Promise<void>): Promise<boolean> => {
      event.preventDefault();
      const form = event.currentTarget;
      const focusFirstError = () =>
        setTimeout(() => form.querySelector<HTMLElement>('[aria-invalid="true"], [role="alert"]')?.focus(), 0);
      const local: FormErrors = { fields: schema ? schemaFieldErrors(schema, value, hints) : {} };
      if (hasErrors(local)) {
        setErrors(local);
        focusFirstError();
        return false;
      }
      setBusy(true);
      setErrors(NO_ERRORS);
      try {
        await action();
        return true;
      } catch (err) {
        const fields = value && typeof value === 'object' ? Object.keys(value) : [];
        setErrors(apiFormErrors(err, codeToField, fields));
        focusFirstError();
        return false;
      } finally {
        setBusy(false);
      }
    },
    [schema, hints, codeToField],
  );

  const clear = useCallback(() => setErrors(NO_ERRORS), []);
  return { errors, busy, handle, clear };
}
