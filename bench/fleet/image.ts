/**
 * The fleet lab's image: the seed's golden image (a 27 GB root, 25 GB of it used, on a 32 GB
 * card) shrunk by the lab's size factor, Raspberry Pi OS-shaped, its root filled with real files
 * from this machine's /usr (binaries, libraries, text) taken in turn from each source, so that it
 * compresses about 3× like a real OS rather than like synthetic fill.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { piImage, type BenchImage } from '../large-pi-image.js';

const MiB = 1024 * 1024;
const BLOCK = 4096;
/** Binaries, libraries, documentation and data, in turn, as a Raspberry Pi OS root holds them. */
const ROOT_SOURCES = [
  '/usr/bin',
  '/usr/lib/x86_64-linux-gnu',
  '/usr/share/doc',
  '/usr/lib/python3',
  '/usr/share/locale',
  '/usr/share/perl',
  '/usr/libexec',
  '/usr/share/i18n',
];
/** Share of the root's blocks (less the journal) given to file data; inode tables and directories take part of the rest. */
const FILE_SHARE = 0.87;
/** Files larger than this would make the scaled image one file; a real root has many. */
const MAX_FILE_BYTES = 8 * MiB;

/** Full-scale sizes of the seed's golden image (issue 16). */
export const FULL_IMAGE = { bootBytes: 512 * MiB, rootBytes: 27e9, usedBytes: 25e9, cardBytes: 32e9 };

const roundMiB = (bytes: number) => Math.max(1, Math.round(bytes / MiB)) * MiB;

export interface FleetImage extends BenchImage {
  cardBytes: number;
}

export function fleetImage(sizeFactor: number): FleetImage {
  const bootBytes = Math.max(4 * MiB, roundMiB(FULL_IMAGE.bootBytes / sizeFactor));
  const rootBytes = roundMiB(FULL_IMAGE.rootBytes / sizeFactor);
  const image = piImage({
    // "-etc": images cached before the root had a system identity (see systemFiles) are not reused.
    name: `fleet-${rootBytes / MiB}m-etc.img`,
    bootBytes,
    rootBytes,
    fillRoot: (tree) => fillRoot(tree, (rootBytes - journalBytes(rootBytes)) * FILE_SHARE - systemFiles(tree)),
  });
  return { ...image, cardBytes: Math.max(roundMiB(FULL_IMAGE.cardBytes / sizeFactor), image.sizeBytes + 4 * MiB) };
}

/** The journal mke2fs gives a filesystem this size (e2fsprogs' ext2fs_default_journal_size, 4 KiB blocks). */
function journalBytes(rootBytes: number): number {
  const blocks = rootBytes / BLOCK;
  const journalBlocks = blocks < 32768 ? 1024 : blocks < 256 * 1024 ? 4096 : blocks < 512 * 1024 ? 8192 : 16384;
  return journalBlocks * BLOCK;
}

/**
 * What a golden Raspberry Pi OS board carries of its own identity, as capture's sanitising finds it
 * (issue 14): machine-id, SSH host keys, hostname, cloud-init state, logs, a shell history, a DHCP
 * lease, and the units that make new host keys. Returns the bytes of blocks taken, which the
 * fill leaves out so that the root is as full as before.
 */
function systemFiles(tree: string): number {
  let taken = 0;
  const put = (path: string, text: string | Buffer) => {
    const to = join(tree, path);
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, text);
    taken += Math.ceil(Buffer.byteLength(text) / BLOCK) * BLOCK;
  };
  const machineId = `${randomBytes(16).toString('hex')}\n`;
  put('etc/machine-id', machineId);
  put('var/lib/dbus/machine-id', machineId);
  put('etc/hostname', 'golden\n');
  put('etc/hosts', '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tgolden\n');
  put(
    'etc/os-release',
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
  );
  put(
    'etc/fstab',
    'proc /proc proc defaults 0 0\nPARTUUID=0badcafe-01 /boot/firmware vfat defaults 0 2\nPARTUUID=0badcafe-02 / ext4 defaults,noatime 0 1\n',
  );
  put('etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n');
  mkdirSync(join(tree, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
  put(
    'lib/systemd/system/regenerate_ssh_host_keys.service',
    '[Unit]\nDescription=Regenerate SSH host keys\nBefore=ssh.service\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/ssh-keygen -A -v\nExecStartPost=/bin/systemctl disable regenerate_ssh_host_keys\n\n[Install]\nWantedBy=multi-user.target\n',
  );
  for (const type of ['ed25519', 'ecdsa', 'rsa']) {
    const key = join(tree, `etc/ssh/ssh_host_${type}_key`);
    execFileSync('ssh-keygen', ['-q', '-N', '', '-C', 'root@golden', '-t', type, '-f', key]);
    for (const f of [key, `${key}.pub`]) taken += Math.ceil(statSync(f).size / BLOCK) * BLOCK;
  }
  put('var/lib/cloud/instance/boot-finished', '12.34 - Mon, 01 Jan 2024 00:00:00 +0000 - v. 23.1\n');
  put('var/lib/cloud/data/instance-id', 'iid-golden\n');
  put('var/log/syslog', 'Jan  1 00:00:00 golden systemd[1]: Started Journal Service.\n'.repeat(40));
  put('var/lib/NetworkManager/internal-eth0.lease', 'ADDRESS=198.18.151.23\nNETMASK=255.254.0.0\n');
  put('home/pi/.bash_history', 'sudo apt update\nsudo reboot\n');
  put('root/.bash_history', 'journalctl -b\n');
  return taken;
}

/** Hard-links files from the sources in turn (one from each, round robin) until `budgetBytes` of blocks are taken. */
function fillRoot(tree: string, budgetBytes: number): void {
  const lists = ROOT_SOURCES.map((src) => filesUnder(src));
  let taken = 0;
  for (let i = 0; lists.some((l) => i < l.length); i++) {
    for (const list of lists) {
      const file = list[i];
      if (!file) continue;
      const blocks = Math.ceil(file.sizeBytes / BLOCK) * BLOCK;
      if (taken + blocks > budgetBytes) continue;
      const to = join(tree, file.path);
      mkdirSync(dirname(to), { recursive: true });
      try {
        linkSync(file.path, to);
      } catch {
        copyFileSync(file.path, to);
      }
      taken += blocks;
    }
  }
}

function filesUnder(root: string): { path: string; sizeBytes: number }[] {
  const out: { path: string; sizeBytes: number }[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && st.size > 0 && st.size <= MAX_FILE_BYTES) out.push({ path, sizeBytes: st.size });
    }
  };
  walk(root);
  return out;
}
