import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { ApiError } from '../api/client.js';

/**
 * Errors shown next to the field they belong to. The form is first checked in the browser
 * against the same TypeBox schema the server validates with; what only the server can know
 * (a venue code already taken) comes back as the common error body, and its field is found
 * from `details.field` or, for domain errors that name none, from the form's code → field map.
 */

export type FieldErrors = Record<string, string>;

export interface FormErrors {
  fields: FieldErrors;
  /** a message for the whole form (not about one field) */
  form?: string;
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
}

function phrase(e: SchemaError, hint: string | undefined): string {
  const limit = e.params['limit'];
  switch (e.keyword) {
    case 'required':
      return 'Required';
    case 'minLength':
      return limit === 1 ? 'Required' : `At least ${String(limit)} characters`;
    case 'maxLength':
      return `At most ${String(limit)} characters`;
    case 'minimum':
      return `At least ${String(limit)}`;
    case 'maximum':
      return `At most ${String(limit)}`;
    case 'type':
      return e.params['type'] === 'integer' ? 'Enter a whole number' : 'Required';
    case 'pattern':
    case 'format':
      return hint ?? 'Not in the expected format';
    default:
      return hint ?? 'Not valid';
  }
}

/**
 * Checks `value` against `schema`; one message per field (the first one found), keyed by the
 * field's dotted path. `hints` explain patterns in words ("4 characters, A–Z and 0–9").
 */
export function schemaFieldErrors(schema: TSchema, value: unknown, hints: Record<string, string> = {}): FieldErrors {
  const fields: FieldErrors = {};
  for (const e of Value.Errors(schema, value) as SchemaError[]) {
    const missing = e.params['requiredProperties'];
    const paths = Array.isArray(missing) ? missing.map(String) : [e.instancePath.split('/').filter(Boolean).join('.')];
    for (const path of paths) {
      if (path === '' || fields[path] !== undefined) continue;
      fields[path] = phrase(e, hints[path]);
    }
  }
  return fields;
}

/**
 * Where an API error belongs: next to the field the server named (or that the form maps its
 * code to), otherwise at the top of the form.
 */
export function apiFormErrors(
  err: unknown,
  codeToField: Record<string, string> = {},
  knownFields: readonly string[] = [],
): FormErrors {
  if (!(err instanceof ApiError)) return { fields: {}, form: err instanceof Error ? err.message : String(err) };
  const field = err.field ?? codeToField[err.code] ?? fieldNamedInMessage(err, knownFields);
  if (field !== undefined) return { fields: { [field]: err.message } };
  return { fields: {}, form: err.message };
}

/** `body.expectedCount must be >= 1` → `expectedCount`: a schema rejection that named its field only in the text. */
function fieldNamedInMessage(err: ApiError, knownFields: readonly string[]): string | undefined {
  if (err.code !== 'REQUEST_INVALID') return undefined;
  const m = /^body\.([\w.]+)/.exec(err.message);
  return m && knownFields.includes(m[1]!) ? m[1] : undefined;
}

export const hasErrors = (e: FormErrors) => e.form !== undefined || Object.keys(e.fields).length > 0;
