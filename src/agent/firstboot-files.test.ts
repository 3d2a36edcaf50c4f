import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Customisation, FirstBootSettings } from '../protocol/firstboot.js';
import { renderFirstBoot } from './firstboot-files.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@venue';
const FULL: FirstBootSettings = {
  user: { name: 'kart', passwordHash: '$y$j9T$abcdefgh$0123456789ABCDEFabcdef', sudo: true },
  sshAuthorizedKeys: [KEY],
  sshPasswordAuth: false,
  wifi: { ssid: "Karting 'Pit' Lane", country: 'US', psk: 'a'.repeat(64), hidden: true },
  timezone: 'America/Los_Angeles',
  keyboardLayout: 'us',
};
const CMDLINE =
  'console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n';

const customisation = (format: Customisation['format'], settings: FirstBootSettings = {}): Customisation => ({
  format,
  hostname: 'KXP2-CORO-007',
  instanceId: 'rpi-deploy-42-1700000000000',
  settings,
});

describe('renderFirstBoot, cloud-init (current Raspberry Pi OS)', () => {
  it('names the host in user-data and meta-data and points the command line at NoCloud', () => {
    const out = renderFirstBoot(customisation('cloud-init'), CMDLINE);
    const files = Object.fromEntries(out.files.map((f) => [f.path, f.content]));
    expect(Object.keys(files)).toEqual(['user-data', 'meta-data']);
    expect(files['user-data']!.startsWith('#cloud-config\n')).toBe(true);
    expect(parse(files['user-data']!)).toEqual({
      hostname: 'KXP2-CORO-007',
      manage_etc_hosts: true,
      manage_resolv_conf: false,
    });
    expect(parse(files['meta-data']!)).toEqual({
      'instance-id': 'rpi-deploy-42-1700000000000',
      'local-hostname': 'KXP2-CORO-007',
    });
    expect(out.cmdline).toBe(`${CMDLINE.trim()} ds=nocloud;i=rpi-deploy-42-1700000000000\n`);
  });

  it('carries user, keys, Wi-Fi, timezone and keyboard as Imager does', () => {
    const out = renderFirstBoot(customisation('cloud-init', FULL), CMDLINE);
    const files = Object.fromEntries(out.files.map((f) => [f.path, parse(f.content) as Record<string, unknown>]));
    expect(files['user-data']).toMatchObject({
      hostname: 'KXP2-CORO-007',
      timezone: 'America/Los_Angeles',
      keyboard: { model: 'pc105', layout: 'us' },
      user: {
        name: 'kart',
        lock_passwd: false,
        passwd: FULL.user!.passwordHash,
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        ssh_authorized_keys: [KEY],
      },
      ssh_pwauth: false,
      runcmd: ['systemctl enable --now ssh'],
    });
    expect(files['network-config']).toEqual({
      network: {
        version: 2,
        ethernets: { eth0: { dhcp4: true, optional: true } },
        wifis: {
          wlan0: {
            dhcp4: true,
            optional: true,
            'regulatory-domain': 'US',
            'access-points': { "Karting 'Pit' Lane": { password: 'a'.repeat(64), hidden: true } },
          },
        },
      },
    });
    expect(out.cmdline).toContain(' cfg80211.ieee80211_regdom=US ds=nocloud;i=');
  });

  it('marks an open network as such', () => {
    const out = renderFirstBoot(
      customisation('cloud-init', { wifi: { ssid: 'Open', country: 'DE', psk: null } }),
      CMDLINE,
    );
    const net = parse(out.files.find((f) => f.path === 'network-config')!.content) as {
      network: { wifis: { wlan0: { 'access-points': Record<string, unknown> } } };
    };
    expect(net.network.wifis.wlan0['access-points']).toEqual({ Open: { auth: { 'key-management': 'none' } } });
  });

  it('replaces its own earlier command-line words instead of adding a second copy', () => {
    const once = renderFirstBoot(customisation('cloud-init', FULL), CMDLINE).cmdline;
    const twice = renderFirstBoot(customisation('cloud-init', FULL), once).cmdline;
    expect(twice).toBe(once);
    expect(once.split('\n')).toHaveLength(2);
  });
});

describe('renderFirstBoot, firstrun.sh (Bookworm)', () => {
  it('writes a script bash accepts and the systemd.run command line', () => {
    const out = renderFirstBoot(customisation('firstrun', FULL), CMDLINE);
    expect(out.files.map((f) => f.path)).toEqual(['firstrun.sh']);
    const script = out.files[0]!.content;
    const dir = mkdtempSync(join(tmpdir(), 'firstrun-'));
    try {
      writeFileSync(join(dir, 'firstrun.sh'), script);
      const check = spawnSync('bash', ['-n', join(dir, 'firstrun.sh')], { encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true });
    }
    expect(script).toContain("NEW_HOSTNAME='KXP2-CORO-007'");
    expect(script).toContain(`set_wlan -h 'Karting '\\''Pit'\\'' Lane' '${'a'.repeat(64)}' 'US'`);
    expect(script).toContain("/usr/lib/userconf-pi/userconf 'kart' '$y$j9T$abcdefgh$0123456789ABCDEFabcdef'");
    expect(script).toContain('rm -f /boot/firstrun.sh');
    expect(out.cmdline).toBe(
      `${CMDLINE.trim()} cfg80211.ieee80211_regdom=US systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n`,
    );
  });

  it('prints the hostname when bash runs the hostname part against a scratch /etc', () => {
    const script = renderFirstBoot(customisation('firstrun'), CMDLINE).files[0]!.content;
    const hostnamePart = script.split('FIRSTUSER=')[0]!.replaceAll('/etc/', '$ETC/');
    const dir = mkdtempSync(join(tmpdir(), 'firstrun-'));
    try {
      writeFileSync(join(dir, 'hostname'), 'raspberrypi\n');
      writeFileSync(join(dir, 'hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n');
      const run = spawnSync('bash', ['-c', hostnamePart], {
        encoding: 'utf8',
        env: { ETC: dir, PATH: process.env['PATH'] ?? '' },
      });
      expect(run.status).toBe(0);
      expect(spawnSync('cat', [join(dir, 'hostname'), join(dir, 'hosts')], { encoding: 'utf8' }).stdout).toBe(
        'KXP2-CORO-007\n127.0.0.1\tlocalhost\n127.0.1.1\tKXP2-CORO-007\n',
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
