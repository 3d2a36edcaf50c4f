import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import Value from 'typebox/value';
import type { TSchema } from 'typebox';
import { parse as parseYaml } from 'yaml';
import { ipToInt } from '../lib/ipv4.js';
import { normaliseMac } from '../lib/mac.js';
import { ConfigError } from './errors.js';
import { ConfigSchema, parseListen, type Config } from './schema.js';

/** Where configuration comes from; later sources override earlier ones. */
export interface ConfigSources {
  /** A YAML file; falls back to the `RPI_DEPLOY_CONFIG` environment variable. */
  file?: string | undefined;
  /** Usually `process.env`; only `RPI_DEPLOY_*` variables are read. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Command-line overrides keyed by dotted path, e.g. `{ 'device.listen': '0.0.0.0:80' }`. */
  flags?: Readonly<Record<string, unknown>>;
}

const ENV_PREFIX = 'RPI_DEPLOY_';
const ENV_FILE = `${ENV_PREFIX}CONFIG`;

type Json = Record<string, unknown>;
interface Leaf {
  path: string[];
  schema: TSchema & Record<string, unknown>;
}

/**
 * Merges defaults < file < environment < flags, validates against the one schema and freezes the
 * result. Any problem is a `CONFIG_INVALID` error whose message names the key and its source.
 */
export function loadConfig(sources: ConfigSources = {}): Readonly<Config> {
  const env = sources.env ?? {};
  const origins = new Map<string, string>();
  const merged: Json = {};

  const file = sources.file ?? env[ENV_FILE];
  if (file) mergeInto(merged, readConfigFile(file), `config file ${file}`, origins);
  mergeInto(merged, fromEnv(env, origins), '', origins);
  for (const [key, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    setPath(merged, key.split('.'), value);
    origins.set(key, `flag --${key.replace(/\./g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  }

  const withDefaults = Value.Default(ConfigSchema, structuredClone(merged)) as Json;
  const first = Value.Errors(ConfigSchema, withDefaults)[0];
  if (first) throw invalid(first.instancePath, first.message, withDefaults, origins);

  const config = withDefaults as Config;
  for (const key of ['device.listen', 'management.listen'] as const) {
    const [section] = key.split('.') as ['device' | 'management'];
    const { port } = parseListen(config[section].listen);
    if (port > 65535)
      throw invalid(`/${section}/listen`, 'port must be 0–65535 (0 picks a free port)', withDefaults, origins);
  }
  checkNetboot(config, withDefaults, origins);
  checkManagement(config, withDefaults, origins);
  config.dataDir = resolve(config.dataDir);
  return deepFreeze(config);
}

/** What the schema cannot say: a range that runs forwards, reservations without clashes. */
function checkNetboot(config: Config, raw: Json, origins: Map<string, string>): void {
  const dhcp = config.netboot.dhcp;
  if (ipToInt(dhcp.range.start) > ipToInt(dhcp.range.end)) {
    throw invalid(
      '/netboot/dhcp/range/end',
      `must not come before netboot.dhcp.range.start (${dhcp.range.start})`,
      raw,
      origins,
    );
  }
  const macs = new Set<string>();
  const ips = new Set<string>();
  dhcp.reservations.forEach((r, i) => {
    // The schema's pattern already admitted only well-formed MACs.
    const mac = normaliseMac(r.mac)!;
    const at = `/netboot/dhcp/reservations`;
    if (macs.has(mac))
      throw invalid(at, `lists MAC ${r.mac} twice (entry ${i + 1}); give each MAC one address`, raw, origins);
    if (ips.has(r.ip))
      throw invalid(at, `gives ${r.ip} to two MACs (entry ${i + 1}); give each MAC its own address`, raw, origins);
    macs.add(mac);
    ips.add(r.ip);
  });
}

/** TLS files come in pairs; proxy addresses are really addresses, with prefixes that fit them. */
function checkManagement(config: Config, raw: Json, origins: Map<string, string>): void {
  const { cert, key } = config.management.tls;
  if ((cert === null) !== (key === null)) {
    const [set, missing] = cert === null ? ['key', 'cert'] : ['cert', 'key'];
    throw invalid(
      `/management/tls/${set}`,
      `is set but management.tls.${missing} is not: https needs both files`,
      raw,
      origins,
    );
  }
  for (const entry of config.management.trustProxy) {
    if (/^[a-z]+$/.test(entry)) continue;
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    if (family === 0 || (prefix !== undefined && Number(prefix) > bits)) {
      throw invalid(
        '/management/trustProxy',
        `lists ${JSON.stringify(entry)}, which is not an IP address or CIDR range (e.g. 127.0.0.1, 10.0.0.0/8, loopback)`,
        raw,
        origins,
      );
    }
  }
}

function readConfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(
      'CONFIG_FILE_UNREADABLE',
      `Cannot read config file ${file}: ${(cause as Error).message}`,
      { file },
      { cause },
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (cause) {
    throw new ConfigError(
      'CONFIG_FILE_UNREADABLE',
      `Config file ${file} is not valid YAML: ${(cause as Error).message}`,
      { file },
      { cause },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `Config file ${file} must hold a mapping of keys (e.g. "dataDir: /var/lib/rpi-deploy")`,
      { file },
    );
  }
  return parsed as Json;
}

/** Reads `RPI_DEPLOY_<PATH>` for every leaf of the schema; an unknown variable is an error. */
function fromEnv(env: Readonly<Record<string, string | undefined>>, origins: Map<string, string>): Json {
  const out: Json = {};
  const known = new Set([ENV_FILE]);
  for (const leaf of leaves(ConfigSchema as unknown as TSchema & Record<string, unknown>, [])) {
    const name = envName(leaf.path);
    known.add(name);
    const raw = env[name];
    if (raw === undefined) continue;
    setPath(out, leaf.path, coerce(raw, leaf.schema));
    origins.set(leaf.path.join('.'), `environment variable ${name}`);
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith(ENV_PREFIX) && !known.has(name)) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `Unknown environment variable ${name}; known ones: ${[...known].sort().join(', ')}`,
        { key: name },
      );
    }
  }
  return out;
}

/** `dataDir` → `RPI_DEPLOY_DATA_DIR`, `device.listen` → `RPI_DEPLOY_DEVICE_LISTEN`. */
export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()).join('_');
}

function leaves(schema: TSchema & Record<string, unknown>, path: string[]): Leaf[] {
  const props = schema['properties'] as Record<string, TSchema & Record<string, unknown>> | undefined;
  if (schema['type'] !== 'object' || !props) return [{ path, schema }];
  return Object.entries(props).flatMap(([key, child]) => leaves(child, [...path, key]));
}

function coerce(raw: string, schema: Record<string, unknown>): unknown {
  switch (schema['type']) {
    case 'integer':
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'boolean':
      return ({ true: true, '1': true, false: false, '0': false } as Record<string, boolean>)[raw.toLowerCase()] ?? raw;
    case 'array':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

function mergeInto(
  target: Json,
  source: Json,
  origin: string,
  origins: Map<string, string>,
  prefix: string[] = [],
): void {
  for (const [key, value] of Object.entries(source)) {
    const path = [...prefix, key];
    if (isPlainObject(value)) {
      if (!isPlainObject(target[key])) target[key] = {};
      mergeInto(target[key] as Json, value, origin, origins, path);
    } else {
      target[key] = value;
      if (origin) origins.set(path.join('.'), origin);
    }
  }
}

function setPath(target: Json, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[path[path.length - 1] as string] = value;
}

function invalid(instancePath: string, message: string, config: Json, origins: Map<string, string>): ConfigError {
  const path = instancePath.split('/').filter(Boolean);
  const key = path.join('.') || '(top level)';
  let value: unknown = config;
  for (const p of path) value = isPlainObject(value) ? value[p] : undefined;
  const origin = origins.get(key) ?? [...origins].find(([k]) => k.startsWith(`${key}.`))?.[1] ?? 'the defaults';
  const leaf = leaves(ConfigSchema as unknown as TSchema & Record<string, unknown>, []).find(
    (l) => l.path.join('.') === key,
  );
  const hint = typeof leaf?.schema['description'] === 'string' ? ` — ${leaf.schema['description']}` : '';
  const what =
    message === 'schema is false'
      ? 'is not a known setting'
      : message.startsWith('must match pattern')
        ? `is not in the expected form${hint}`
        : `${message}${hint}`;
  const got = value === undefined ? '' : `; got ${JSON.stringify(value)}`;
  return new ConfigError('CONFIG_INVALID', `Invalid configuration: "${key}" ${what}${got} (from ${origin})`, {
    key,
    origin,
  });
}

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (isPlainObject(value)) for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
