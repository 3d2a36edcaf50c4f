import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { ConfigError } from './errors.js';
import { envName, loadConfig } from './load.js';

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function file(text: string): string {
  const d = tempDir();
  dirs.push(d);
  const path = join(d.path, 'config.yaml');
  writeFileSync(path, text);
  return path;
}

function failure(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has safe defaults: both listeners on loopback', () => {
    const c = loadConfig();
    expect(c.device.listen).toBe('127.0.0.1:5001');
    expect(c.management.listen).toBe('127.0.0.1:5000');
    expect(c.log.level).toBe('info');
    expect(c.dataDir.endsWith('/data')).toBe(true);
  });

  it('layers defaults < file < env < flags', () => {
    const f = file('dataDir: /from-file\ndevice:\n  listen: 10.0.0.1:80\nmanagement:\n  listen: 127.0.0.1:7000\n');
    const c = loadConfig({
      file: f,
      env: { RPI_DEPLOY_DEVICE_LISTEN: '0.0.0.0:81', RPI_DEPLOY_LOG_LEVEL: 'debug' },
      flags: { 'device.listen': '0.0.0.0:82' },
    });
    expect(c).toMatchObject({
      dataDir: '/from-file',
      device: { listen: '0.0.0.0:82' },
      management: { listen: '127.0.0.1:7000' },
      log: { level: 'debug' },
    });
  });

  it('reads the file named by RPI_DEPLOY_CONFIG', () => {
    expect(loadConfig({ env: { RPI_DEPLOY_CONFIG: file('dataDir: /x\n') } }).dataDir).toBe('/x');
  });

  it('is frozen', () => {
    const c = loadConfig();
    expect(() => {
      c.device.listen = 'x';
    }).toThrow();
  });

  it('maps camelCase paths to environment names', () => {
    expect(envName(['dataDir'])).toBe('RPI_DEPLOY_DATA_DIR');
    expect(envName(['management', 'listen'])).toBe('RPI_DEPLOY_MANAGEMENT_LISTEN');
  });

  it.each([
    ['an unknown key in the file', { file: 'devic:\n  listen: x\n' }, '"devic" is not a known setting', 'config file'],
    [
      'a bad listen address',
      { file: 'device:\n  listen: nowhere\n' },
      '"device.listen" is not in the expected form',
      'config file',
    ],
    [
      'a port out of range',
      { flags: { 'management.listen': '127.0.0.1:70000' } },
      '"management.listen" port must be 0–65535',
      'flag --management-listen',
    ],
    ['a wrong type', { file: 'dataDir: 5\n' }, '"dataDir" must be string', 'config file'],
    ['an unknown log level', { env: { RPI_DEPLOY_LOG_LEVEL: 'loud' } }, '"log.level"', 'RPI_DEPLOY_LOG_LEVEL'],
  ])('names the key and the source for %s', (_case, src, message, origin) => {
    const sources = { ...src, ...('file' in src && { file: file(src.file) }) } as Parameters<typeof loadConfig>[0];
    const e = failure(() => loadConfig(sources));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(message);
    expect(e.message).toContain(origin);
  });

  it('refuses an unknown RPI_DEPLOY_ variable by name', () => {
    const e = failure(() => loadConfig({ env: { RPI_DEPLOY_DATADIR: '/x' } }));
    expect(e.message).toContain('RPI_DEPLOY_DATADIR');
  });

  it('says when the file is missing or not YAML', () => {
    expect(failure(() => loadConfig({ file: '/nonexistent/rpi.yaml' })).code).toBe('CONFIG_FILE_UNREADABLE');
    expect(failure(() => loadConfig({ file: file('a: [1,\n') })).message).toContain('not valid YAML');
    expect(failure(() => loadConfig({ file: file('- just\n- a list\n') })).message).toContain('must hold a mapping');
  });

  it('keeps network boot off by default', () => {
    const c = loadConfig();
    expect(c.netboot.interface).toBeNull();
    expect(c.netboot.dhcp).toMatchObject({
      mode: 'full',
      range: { start: '192.168.151.100', end: '192.168.151.250' },
      leaseSeconds: 43_200,
    });
  });

  it('reads netboot settings from the environment', () => {
    const c = loadConfig({
      env: {
        RPI_DEPLOY_NETBOOT_INTERFACE: 'eth1',
        RPI_DEPLOY_NETBOOT_DHCP_MODE: 'proxy',
        RPI_DEPLOY_NETBOOT_DHCP_RANGE_START: '198.18.0.10',
        RPI_DEPLOY_NETBOOT_DHCP_RANGE_END: '198.18.0.20',
      },
    });
    expect(c.netboot).toMatchObject({ interface: 'eth1', dhcp: { mode: 'proxy', range: { start: '198.18.0.10' } } });
  });

  it('reads trusted proxies from the environment as a list', () => {
    const c = loadConfig({ env: { RPI_DEPLOY_MANAGEMENT_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' } });
    expect(c.management.trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', '::1']);
  });

  it.each([
    [
      'a range that runs backwards',
      'netboot:\n  dhcp:\n    range: { start: 198.18.0.200, end: 198.18.0.100 }\n',
      'netboot.dhcp.range.end',
    ],
    [
      'a MAC reserved twice',
      'netboot:\n  dhcp:\n    reservations:\n      - { mac: "2c:cf:67:00:00:01", ip: 198.18.0.5 }\n      - { mac: "2C-CF-67-00-00-01", ip: 198.18.0.6 }\n',
      'netboot.dhcp.reservations',
    ],
    [
      'an address reserved twice',
      'netboot:\n  dhcp:\n    reservations:\n      - { mac: "2c:cf:67:00:00:01", ip: 198.18.0.5 }\n      - { mac: "2c:cf:67:00:00:02", ip: 198.18.0.5 }\n',
      'netboot.dhcp.reservations',
    ],
    ['an address that is not IPv4', 'netboot:\n  address: 198.18.0.256\n', 'netboot.address'],
    ['an interface name with a slash', 'netboot:\n  interface: "../eth0"\n', 'netboot.interface'],
    ['a trusted proxy that is not an address', 'management:\n  trustProxy: [198.18.0.300]\n', 'management.trustProxy'],
    [
      'a trusted proxy range with too long a prefix',
      'management:\n  trustProxy: [198.18.0.0/33]\n',
      'management.trustProxy',
    ],
    ['a TLS certificate without its key', 'management:\n  tls: { cert: /etc/ssl/deploy.pem }\n', 'management.tls.cert'],
  ])('refuses %s, naming the key', (_case, yaml, key) => {
    const e = failure(() => loadConfig({ file: file(yaml) }));
    expect(e.details['key']).toBe(key);
    expect(e.message).toContain('config file');
  });
});
