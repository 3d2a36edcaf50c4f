import { pino, destination, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './log-levels.js';

/** The logger every component receives; pino's, so Fastify can share it. */
export type Logger = PinoLogger;

/** JSON lines on stderr, so stdout stays free for command output. */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({ level, base: undefined }, destination(2));
}
