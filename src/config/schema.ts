import Type, { type Static } from 'typebox';
import { LOG_LEVELS } from '../lib/logger.js';

/**
 * The one configuration of rpi-deploy. Defaults are safe: both listeners on loopback, and no
 * network-boot service until an operator names the deployment interface.
 */

const Listen = (fallback: string, description: string) =>
  Type.String({ pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\s]+):[0-9]{1,5}$', default: fallback, description });

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({
      minLength: 1,
      default: 'data',
      description: 'where the database and image store live; relative paths are taken from the working directory',
    }),
    device: Type.Object(
      {
        listen: Listen('127.0.0.1:5001', 'HOST:PORT for the device API (boards); the deployment-LAN address in production'),
      },
      { additionalProperties: false, default: {} },
    ),
    management: Type.Object(
      {
        listen: Listen('127.0.0.1:5000', 'HOST:PORT for the management API and web UI; never the deployment LAN'),
        session: Type.Object(
          {
            idleMinutes: Type.Integer({ minimum: 1, maximum: 10080, default: 120, description: 'a session unused this long ends' }),
            absoluteHours: Type.Integer({ minimum: 1, maximum: 720, default: 12, description: 'a session ends this long after login, used or not' }),
          },
          { additionalProperties: false, default: {} },
        ),
        loginLimit: Type.Object(
          {
            perUser: Type.Integer({ minimum: 1, default: 5, description: 'failed logins for one username within the window before it is locked' }),
            perAddress: Type.Integer({ minimum: 1, default: 20, description: 'failed logins from one address within the window before it is locked' }),
            windowMinutes: Type.Integer({ minimum: 1, default: 15 }),
          },
          { additionalProperties: false, default: {} },
        ),
        trustedOrigins: Type.Array(Type.String({ pattern: '^https?://[^/\\s]+$' }), {
          default: [],
          description: 'extra browser origins allowed to change things (e.g. https://deploy.example.org behind a proxy); the page’s own origin always is',
        }),
        allowedHosts: Type.Array(Type.String({ pattern: '^[A-Za-z0-9.-]+$' }), {
          default: [],
          description: 'host names the UI may be reached by besides IP addresses and localhost (guards against DNS rebinding)',
        }),
        diskLowMiB: Type.Integer({ minimum: 0, default: 2048, description: 'warn the dashboard when the data directory has less free space than this' }),
        uiDir: Type.String({ default: '', description: 'built web UI to serve; empty means the ui/dist of this installation' }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Enum(LOG_LEVELS, { default: 'info' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

/** A `HOST:PORT` listen address split for `listen()`; `[::1]:80` style IPv6 is accepted. */
export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListen(value: string): ListenAddress {
  const at = value.lastIndexOf(':');
  const rawHost = value.slice(0, at);
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  return { host, port: Number(value.slice(at + 1)) };
}
