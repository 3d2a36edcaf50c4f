import { userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { openCore, type Core } from '../app.js';
import { loadConfig, type Config } from '../config/index.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../lib/logger.js';
import { createAuditLog } from '../management/index.js';
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
  return loadConfig({
    file: g.config,
    env: process.env,
    flags: { dataDir: g.dataDir, 'log.level': g.logLevel, ...flags },
  });
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

/** A change a command makes, as the audit log names it (the same action names as the management API). */
export interface CliChange<T> {
  action: string;
  /** What was changed; a function when only the result names it (the id of a new batch). */
  target: string | ((result: T) => string);
  /** What the row says of the change; by default the command's arguments and options. */
  details?: Record<string, unknown>;
}

/** Options that say how a command runs or prints, not what it changes. */
const RUN_OPTIONS = new Set(['config', 'dataDir', 'logLevel', 'json', 'csv']);

/** `cli:<os user>`: who ran the command, as the audit log names them. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    // A uid with no passwd entry (a container run as an arbitrary uid) is named by its number.
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/**
 * `withCore` for a command that changes something: once the change succeeded, one audit row with
 * the actor `cli:<os user>`, as the management API writes one for each change made through it.
 * Every changing command goes through here, so that the audit log holds every change.
 */
export function withChange<T>(cmd: Command, change: CliChange<T>, fn: (core: Core) => Promise<T>): Promise<T> {
  return withCore(cmd, async (core) => {
    const result = await fn(core);
    const options = Object.fromEntries(Object.entries(cmd.opts()).filter(([k]) => !RUN_OPTIONS.has(k)));
    await createAuditLog({ store: core.store, clock: () => new Date() }).record({
      actor: cliActor(),
      action: change.action,
      target: typeof change.target === 'function' ? change.target(result) : change.target,
      details: change.details ?? { args: cmd.args, options },
      ip: null,
    });
    return result;
  });
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
