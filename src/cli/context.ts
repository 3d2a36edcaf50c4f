import { InvalidArgumentError, type Command } from 'commander';
import { openCore, type Core } from '../app.js';
import { loadConfig, type Config } from '../config/index.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../lib/logger.js';
import type { Format } from './output.js';

/** Options every command accepts (declared on the program). */
export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  logLevel?: LogLevel;
}

/** Loads the configuration from file, environment and this command's flags. */
export function configFor(cmd: Command, flags: Record<string, unknown> = {}): Readonly<Config> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return loadConfig({ file: g.config, env: process.env, flags: { dataDir: g.dataDir, 'log.level': g.logLevel, ...flags } });
}

/**
 * Opens the database and domain components for one command and closes them afterwards. Data
 * commands log only warnings unless --log-level says otherwise, so their output stays readable.
 */
export async function withCore<T>(cmd: Command, fn: (core: Core) => Promise<T>): Promise<T> {
  const config = configFor(cmd);
  const core = await openCore(config, createLogger(cmd.optsWithGlobals<GlobalOptions>().logLevel ?? 'warn'));
  try {
    return await fn(core);
  } finally {
    await core.close();
  }
}

export function formatOf(opts: { json?: boolean; csv?: boolean }): Format {
  return opts.json ? 'json' : opts.csv ? 'csv' : 'table';
}

export function parseInteger(value: string): number {
  if (!/^-?[0-9]+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

/** An option parser that accepts exactly one of `values`. */
export function oneOf<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(values as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return value as T;
  };
}

export const parseLogLevel = oneOf(LOG_LEVELS);

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
