import { execFile } from 'node:child_process';
import { OperationsError } from './errors.js';

/**
 * Tells systemd the service is ready (Type=notify) once every listener is bound, so units
 * ordered after rpi-deploy, and `systemctl start`, wait for a server that answers. Outside
 * systemd (no NOTIFY_SOCKET) it does nothing. systemd-notify waits until systemd has read the
 * message, so the short-lived helper cannot exit before systemd knows whose it was.
 */
export function notifyReady(env: NodeJS.ProcessEnv = process.env): Promise<'sent' | 'not-under-systemd'> {
  if (!env['NOTIFY_SOCKET']) return Promise.resolve('not-under-systemd');
  return new Promise((resolve, reject) => {
    execFile(
      'systemd-notify',
      ['--ready', `--pid=${process.pid}`],
      { env, timeout: 30_000 },
      (err, _stdout, stderr) => {
        if (err)
          reject(
            new OperationsError(
              'OPS_NOTIFY_FAILED',
              `systemd-notify --ready failed: ${stderr.trim() || err.message}; is systemd installed?`,
              {},
              { cause: err },
            ),
          );
        else resolve('sent');
      },
    );
  });
}
