import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { openCore, type Core } from '../core.js';
import { loadConfig, type Config } from '../config/index.js';
import type { LogLevel } from '../lib/log-levels.js';
import { createLogger } from '../lib/logger.js';
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
    // The audit log comes with the management component: loaded only by commands that change something.
    const { createAuditLog } = await import('../management/index.js');
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
