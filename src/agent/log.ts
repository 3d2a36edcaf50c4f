/** The agent's own small logger: it must not pull the server's logging stack onto the board. */
export interface AgentLog {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
}

/** One line per message on a stream (stderr by default), readable on a serial console. */
export function streamLog(stream: NodeJS.WritableStream = process.stderr, prefix = 'rpi-deploy-agent'): AgentLog {
  const line = (level: string, message: string, data?: Record<string, unknown>) =>
    stream.write(
      `${new Date().toISOString()} ${prefix} ${level}: ${message}${data && Object.keys(data).length > 0 ? ` ${JSON.stringify(data)}` : ''}\n`,
    );
  return { info: (m, d) => line('info', m, d), warn: (m, d) => line('warn', m, d) };
}

export const SILENT_LOG: AgentLog = { info: () => undefined, warn: () => undefined };
