import { pino, destination, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './log-levels.js';

/** The logger every component receives; pino's, so Fastify can share it. */
export type Logger = PinoLogger;

/** Log lines go to stderr, so stdout stays free for command output. */
export function createLogger(level: LogLevel = 'info', format: 'json' | 'pretty' = 'json'): Logger {
  const out = destination(2);
  if (format === 'json') return pino({ level, base: undefined }, out);
  return pino({ level, base: undefined }, { write: (line: string) => out.write(prettyLine(line)) });
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields pino's children add to say where a line comes from. */
const COMPONENT_KEYS = ['component', 'surface', 'service'] as const;

/**
 * One pino JSON line as `2026-12-06 14:03:12.345 INFO  [netboot] message key=value …`, an error's
 * stack indented below it.
 */
export function prettyLine(json: string): string {
  const { level, time, msg, err, ...fields } = JSON.parse(json) as Record<string, unknown>;
  const where = COMPONENT_KEYS.map((k) => fields[k]).filter((v) => typeof v === 'string');
  for (const k of COMPONENT_KEYS) delete fields[k];
  const at = new Date(typeof time === 'number' ? time : Date.now()).toISOString().replace('T', ' ').slice(0, 23);
  const name = (LEVEL_NAMES[level as number] ?? String(level)).padEnd(5);
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const stack = err && typeof err === 'object' ? ((err as { stack?: string }).stack ?? JSON.stringify(err)) : '';
  return (
    [at, name, ...(where.length > 0 ? [`[${where.join(' ')}]`] : []), typeof msg === 'string' ? msg : '', ...rest].join(
      ' ',
    ) +
    (stack ? `\n    ${stack.split('\n').join('\n    ')}` : '') +
    '\n'
  );
}
