import { InvalidArgumentError } from 'commander';
import { LOG_LEVELS } from '../lib/log-levels.js';

/*
 * Option parsers, apart from context.ts: main.ts declares every command with them, and loading
 * context.ts (configuration, database) there would slow down every call, `--version` included.
 */

export function parseInteger(value: string): number {
  if (!/^-?[0-9]+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

/** An option parser that accepts exactly one of `values`. */
export function oneOf<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(values as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return value as T;
  };
}

export const parseLogLevel = oneOf(LOG_LEVELS);

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
