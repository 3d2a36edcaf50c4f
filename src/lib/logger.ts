import { pino, destination, type Logger as PinoLogger } from 'pino';

/** The logger every component receives; pino's, so Fastify can share it. */
export type Logger = PinoLogger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** JSON lines on stderr, so stdout stays free for command output. */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({ level, base: undefined }, destination(2));
}
