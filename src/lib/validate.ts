import Value from 'typebox/value';
import type { Static, TSchema } from 'typebox';

/** The first thing wrong with `value` against `schema`, phrased for a person, or undefined. */
export function firstSchemaError(schema: TSchema, value: unknown): { path: string; message: string } | undefined {
  const error = Value.Errors(schema, value)[0];
  if (!error) return undefined;
  const path = error.instancePath.split('/').filter(Boolean).join('.');
  const message = error.message === 'schema is false' ? 'is not a known field' : error.message;
  return { path: path || '(input)', message };
}

/** Narrows `value` to the schema's type or hands the first problem to `fail`, which must throw. */
export function checkSchema<S extends TSchema>(
  schema: S,
  value: unknown,
  fail: (problem: { path: string; message: string }) => never,
): Static<S> {
  const problem = firstSchemaError(schema, value);
  if (problem) fail(problem);
  return value as Static<S>;
}
