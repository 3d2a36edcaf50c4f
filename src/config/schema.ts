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
