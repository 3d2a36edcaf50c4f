import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPiImage, type PiImage, type PlantedEntry } from '../../test/helpers/pi-image.js';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { SANITISE_STEPS } from '../protocol/sanitise.js';
import { ImageError } from './errors.js';
import { sanitiseImage } from './sanitise.js';

/**
 * A card as a running golden board leaves it, with each piece of identity planted in its ext4
 * root; sanitised, then read back with debugfs itself (never our own reader) and checked with
 * e2fsck -fn.
 */
const dir = tempDir('rpi-deploy-sanitise-');
afterAll(() => dir.remove());

const text = (s: string) => Buffer.from(s);
const GOLDEN: Record<string, PlantedEntry> = {
  'etc/machine-id': text('0123456789abcdef0123456789abcdef\n'),
  'var/lib/dbus/machine-id': text('0123456789abcdef0123456789abcdef\n'),
  'etc/ssh/ssh_host_ed25519_key': text('-----BEGIN OPENSSH PRIVATE KEY-----\ngolden\n'),
  'etc/ssh/ssh_host_ed25519_key.pub': text('ssh-ed25519 AAAA golden\n'),
  'etc/ssh/ssh_host_rsa_key': text('-----BEGIN OPENSSH PRIVATE KEY-----\ngolden rsa\n'),
  'etc/ssh/sshd_config': text('PermitRootLogin no\n'),
  'usr/lib/systemd/system/regenerate_ssh_host_keys.service': text(
    '[Unit]\nDescription=Regenerate SSH host keys\n[Service]\nType=oneshot\nExecStart=/usr/bin/ssh-keygen -A\n' +
      '[Install]\nWantedBy=multi-user.target\n',
  ),
  'etc/systemd/system/multi-user.target.wants/ssh.service': { symlink: '/usr/lib/systemd/system/ssh.service' },
  'var/lib/cloud/instance': { symlink: '/var/lib/cloud/instances/golden' },
  'var/lib/cloud/instances/golden/user-data.txt': text('#cloud-config\n'),
  'var/lib/cloud/instances/golden/sem/config_ssh': text('ran\n'),
  'var/lib/cloud/data/instance-id': text('golden\n'),
  'var/log/syslog': text('Nov  1 golden syslog\n'.repeat(500)),
  'var/log/apt/history.log': text('Start-Date: 2026-11-01\n'),
  'var/log/journal/0123456789abcdef0123456789abcdef/system.journal': Buffer.alloc(65536, 7),
  'root/.bash_history': text('sudo reboot\n'),
  'home/pi/.bash_history': text('ls\n'),
  'home/pi/.python_history': text('import os\n'),
  'var/lib/dhcp/dhclient.eth0.leases': text('lease { fixed-address 198.18.0.9; }\n'),
  'var/lib/dhcpcd/eth0.lease': Buffer.alloc(300, 1),
  'var/lib/dhcpcd/duid': text('00:04:golden\n'),
  'var/lib/NetworkManager/internal-1234-eth0.lease': text('ADDRESS=198.18.0.9\n'),
  'var/lib/NetworkManager/timestamps': text('[timestamps]\n'),
  'var/lib/NetworkManager/secret_key': Buffer.alloc(32, 9),
  'var/lib/NetworkManager/NetworkManager.state': text('[main]\nNetworkingEnabled=true\n'),
  'var/swap': Buffer.alloc(1024 * 1024, 0x11),
};

function golden(name: string, plant: Record<string, PlantedEntry> = GOLDEN): PiImage {
  return buildPiImage(`${dir.path}/${name}`, { plant });
}

const debugfs = (image: PiImage, request: string) =>
  spawnSync('debugfs', ['-R', request, `${image.path}?offset=${image.root.offsetBytes}`], { encoding: 'utf8' });

/** Size of a path in the image's root, or null when it does not exist (asked of debugfs itself). */
function sizeOf(image: PiImage, path: string): number | null {
  const r = debugfs(image, `stat "${path}"`);
  if (/File not found/.test(r.stderr)) return null;
  const m = /Size: (\d+)/.exec(r.stdout);
  if (!m) throw new Error(`debugfs stat ${path}: ${r.stdout} ${r.stderr}`);
  return Number(m[1]);
}

const catFile = (image: PiImage, path: string) => debugfs(image, `cat "${path}"`).stdout;

function fsckClean(image: PiImage): void {
  const r = spawnSync('e2fsck', ['-fn', `${image.path}?offset=${image.root.offsetBytes}`], { encoding: 'utf8' });
  expect(r.status, r.stdout + r.stderr).toBe(0);
}

describe('sanitiseImage', () => {
  it('resets every planted piece of identity, reports each step, and leaves e2fsck clean', async () => {
    const image = golden('all');
    fsckClean(image);
    const report = await sanitiseImage(image.path);

    expect(report.partitionNumber).toBe(2);
    expect(report.steps.map((s) => s.step)).toEqual([...SANITISE_STEPS]);
    const step = (name: string) => report.steps.find((s) => s.step === name)!;

    expect(sizeOf(image, '/etc/machine-id')).toBe(0);
    expect(debugfs(image, 'stat /etc/machine-id').stdout).toMatch(/Mode:\s+0644/);
    expect(sizeOf(image, '/var/lib/dbus/machine-id')).toBeNull();
    expect(step('machine-id')).toMatchObject({ emptied: ['/etc/machine-id'], removed: ['/var/lib/dbus/machine-id'] });

    for (const key of ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub', 'ssh_host_rsa_key'])
      expect(sizeOf(image, `/etc/ssh/${key}`)).toBeNull();
    expect(catFile(image, '/etc/ssh/sshd_config')).toBe('PermitRootLogin no\n');
    // Raspberry Pi OS's own unit, disabled after its run on the golden board, is enabled again.
    expect(
      debugfs(image, 'stat /etc/systemd/system/multi-user.target.wants/regenerate_ssh_host_keys.service').stdout,
    ).toMatch(/Type: symlink[\s\S]*Fast link dest: "\/usr\/lib\/systemd\/system\/regenerate_ssh_host_keys.service"/);
    expect(step('ssh-host-keys').note).toMatch(/regenerate_ssh_host_keys.service \(enabled again\)/);

    expect(debugfs(image, 'ls -p /var/lib/cloud').stdout.trim().split('\n')).toHaveLength(2); // . and ..
    expect(step('cloud-init').removed).toContain('/var/lib/cloud/instances/golden/sem/config_ssh');

    expect(sizeOf(image, '/var/log/syslog')).toBe(0);
    expect(sizeOf(image, '/var/log/apt/history.log')).toBe(0);
    expect(sizeOf(image, '/var/log/journal/0123456789abcdef0123456789abcdef')).toBeNull();
    expect(sizeOf(image, '/var/log/journal')).not.toBeNull();

    for (const path of ['/root/.bash_history', '/home/pi/.bash_history', '/home/pi/.python_history'])
      expect(sizeOf(image, path)).toBeNull();

    for (const path of [
      '/var/lib/dhcp/dhclient.eth0.leases',
      '/var/lib/dhcpcd/eth0.lease',
      '/var/lib/dhcpcd/duid',
      '/var/lib/NetworkManager/internal-1234-eth0.lease',
      '/var/lib/NetworkManager/timestamps',
      '/var/lib/NetworkManager/secret_key',
    ])
      expect(sizeOf(image, path), path).toBeNull();
    expect(sizeOf(image, '/var/lib/NetworkManager/NetworkManager.state')).not.toBeNull();

    expect(sizeOf(image, '/var/swap')).toBeNull();
    expect(step('swap').removed).toEqual(['/var/swap']);

    // What belongs to the OS is untouched.
    expect(catFile(image, '/etc/hostname')).toBe('raspberrypi\n');
    expect(Buffer.from(catFile(image, '/usr/share/doc/readme.txt'))).toEqual(
      image.root.files['usr/share/doc/readme.txt'],
    );
    fsckClean(image);
  });

  it('keeps the steps it is told to keep', async () => {
    const image = golden('keep');
    const report = await sanitiseImage(image.path, { keep: ['ssh-host-keys', 'swap'] });
    expect(sizeOf(image, '/etc/ssh/ssh_host_ed25519_key')).toBeGreaterThan(0);
    expect(sizeOf(image, '/var/swap')).toBe(1024 * 1024);
    expect(sizeOf(image, '/etc/machine-id')).toBe(0);
    expect(report.steps.find((s) => s.step === 'ssh-host-keys')).toMatchObject({ kept: true, removed: [] });
    fsckClean(image);
  });

  it('adds a unit that makes new host keys when the image has none of its own', async () => {
    const plant = { ...GOLDEN };
    delete plant['usr/lib/systemd/system/regenerate_ssh_host_keys.service'];
    const image = golden('no-regen', plant);
    const report = await sanitiseImage(image.path);
    const unit = catFile(image, '/etc/systemd/system/rpi-deploy-ssh-host-keys.service');
    expect(unit).toMatch(/ExecStart=\/usr\/bin\/ssh-keygen -A/);
    expect(debugfs(image, 'stat /etc/systemd/system/rpi-deploy-ssh-host-keys.service').stdout).toMatch(
      /Mode:\s+0644[\s\S]*User:\s+0\s+Group:\s+0/,
    );
    expect(
      debugfs(image, 'stat /etc/systemd/system/multi-user.target.wants/rpi-deploy-ssh-host-keys.service').stdout,
    ).toMatch(/Fast link dest: "\/etc\/systemd\/system\/rpi-deploy-ssh-host-keys.service"/);
    expect(report.steps.find((s) => s.step === 'ssh-host-keys')!.note).toMatch(/rpi-deploy-ssh-host-keys.service/);
    fsckClean(image);
  });

  it('skips, never follows, a machine-id that links outside and a directory where a file belongs', async () => {
    const image = golden('hostile', {
      'etc/machine-id': { symlink: '/../../../../tmp/outside-machine-id' },
      'var/swap': { dir: true },
      'var/lib/dbus': { symlink: '/../../etc' },
      'root/.bash_history': { symlink: '/dev/null' },
      'var/log/syslog': text('kept?\n'),
    });
    const before = readFileSync(image.path);
    const sizeBefore = statSync(image.path).size;
    const report = await sanitiseImage(image.path);
    const skipped = report.steps.flatMap((s) => s.skipped);
    expect(skipped).toEqual(
      expect.arrayContaining([
        { path: '/etc/machine-id', reason: expect.stringMatching(/symbolic link to \/\.\.\/.*outside-machine-id/) },
        { path: '/var/swap', reason: 'is a directory where a file belongs' },
        { path: '/var/lib/dbus/machine-id', reason: expect.stringMatching(/\/var\/lib\/dbus is a symlink/) },
        { path: '/root/.bash_history', reason: expect.stringMatching(/symbolic link to \/dev\/null/) },
      ]),
    );
    expect(debugfs(image, 'stat /etc/machine-id').stdout).toMatch(/Type: symlink/);
    expect(sizeOf(image, '/var/log/syslog')).toBe(0);
    // Only the root partition's bytes changed: nothing before it, nothing after it, same size.
    const after = readFileSync(image.path);
    expect(after.length).toBe(sizeBefore);
    const rootEnd = image.root.offsetBytes + image.root.lengthBytes;
    expect(after.subarray(0, image.root.offsetBytes).equals(before.subarray(0, image.root.offsetBytes))).toBe(true);
    expect(after.subarray(rootEnd).equals(before.subarray(rootEnd))).toBe(true);
    fsckClean(image);
  });

  it('refuses an unknown step, an image without a root filesystem and a damaged one, changing nothing', async () => {
    const image = golden('refusals');
    await expect(sanitiseImage(image.path, { keep: ['hostname' as never] })).rejects.toMatchObject({
      code: 'IMAGE_INPUT_INVALID',
      message: expect.stringMatching(/no sanitise step "hostname"; the steps are machine-id, ssh-host-keys/),
    });
    // The root's superblock magic gone: no ext4 partition holds /etc any more.
    const noRoot = `${image.path}.noroot`;
    execFileSync('cp', [image.path, noRoot]);
    execFileSync('dd', [`of=${noRoot}`, 'bs=1', `seek=${image.root.offsetBytes + 1024 + 0x38}`, 'conv=notrunc'], {
      input: Buffer.from([0, 0]),
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    await expect(sanitiseImage(noRoot)).rejects.toMatchObject({ code: 'IMAGE_NO_ROOT_FILESYSTEM' });
    // A damaged root: the inode bitmap of group 0 cleared, which e2fsck -fn reports.
    const bitmapBlock = Number(
      /Inode bitmap at (\d+)/.exec(
        execFileSync('dumpe2fs', [`${image.path}?offset=${image.root.offsetBytes}`], {
          stdio: ['ignore', 'pipe', 'ignore'],
        }).toString(),
      )![1],
    );
    execFileSync(
      'dd',
      [`of=${image.path}`, 'bs=1', `seek=${image.root.offsetBytes + bitmapBlock * 4096}`, 'conv=notrunc'],
      {
        input: Buffer.alloc(8),
        stdio: ['pipe', 'ignore', 'ignore'],
      },
    );
    const damaged = readFileSync(image.path);
    const err = await sanitiseImage(image.path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect(err).toMatchObject({
      code: 'IMAGE_FILESYSTEM_DAMAGED',
      message: expect.stringMatching(/before sanitising/),
    });
    expect(readFileSync(image.path).equals(damaged)).toBe(true);
  });
});
