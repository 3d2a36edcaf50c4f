import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileDevice, sliceDevice } from '../lib/fat/index.js';
import {
  SANITISE_STEPS,
  type SanitiseReport,
  type SanitiseStep,
  type SanitiseStepResult,
} from '../protocol/sanitise.js';
import { isAddressable, openDebugfs, type Debugfs, type DirEntry } from './debugfs.js';
import { ImageError } from './errors.js';
import { readExt4Geometry } from './ext4-files.js';
import { readPartitionTable } from '../lib/disk/index.js';

/** Which steps to skip. */
export interface SanitiseOptions {
  keep?: readonly SanitiseStep[];
}

/** One step's findings and the debugfs commands that carry them out. */
interface Plan {
  result: SanitiseStepResult;
  commands: string[];
}

interface Context {
  fs: Debugfs;
  /** A directory for files debugfs copies into the image. */
  scratch: string;
}

const q = (path: string) => `"${path}"`;
const join2 = (dir: string, name: string) => `${dir === '/' ? '' : dir}/${name}`;

function newPlan(step: SanitiseStep): Plan {
  return { result: { step, kept: false, removed: [], emptied: [], added: [], skipped: [], note: null }, commands: [] };
}

const UNADDRESSABLE = 'its name has quotes, backslashes or control characters debugfs cannot address';
const skip = (plan: Plan, path: string, reason: string) => plan.result.skipped.push({ path, reason });

function remove(plan: Plan, path: string): void {
  if (!isAddressable(path)) {
    skip(plan, path, UNADDRESSABLE);
    return;
  }
  plan.commands.push(`rm ${q(path)}`);
  plan.result.removed.push(path);
}

/** Cuts a file to zero bytes in place: its inode, owner and mode stay. */
function empty(plan: Plan, path: string): void {
  if (!isAddressable(path)) {
    skip(plan, path, UNADDRESSABLE);
    return;
  }
  plan.commands.push(`punch ${q(path)} 0`, `sif ${q(path)} size 0`);
  plan.result.emptied.push(path);
}

async function describeNonFile(fs: Debugfs, path: string, entry: DirEntry): Promise<string> {
  if (entry.kind === 'symlink')
    return `is a symbolic link to ${await fs.linkTarget(path)}; links are never followed: replace it with a file`;
  return entry.kind === 'dir' ? 'is a directory where a file belongs' : 'is not a regular file';
}

/** A file at a fixed path: `act` on a regular file, a clear skip for anything else. */
async function atPath(
  ctx: Context,
  plan: Plan,
  path: string,
  act: 'remove' | 'empty',
  options: { removeLinks?: boolean } = {},
): Promise<void> {
  const found = await ctx.fs.lookup(path);
  if (!found.found) {
    if (found.blockedAt)
      skip(plan, path, `${found.blockedAt} is a ${found.blockedKind} where a directory belongs; not followed`);
    return;
  }
  const { entry } = found;
  if (entry.kind === 'file' || (entry.kind === 'symlink' && options.removeLinks)) {
    if (act === 'remove') remove(plan, path);
    else if (entry.sizeBytes > 0) empty(plan, path);
    return;
  }
  skip(plan, path, await describeNonFile(ctx.fs, path, entry));
}

/** The directory's entries, or null (with a skip when something other than a directory is there). */
async function dirEntries(ctx: Context, plan: Plan, dir: string): Promise<DirEntry[] | null> {
  const found = await ctx.fs.lookup(dir);
  if (!found.found) {
    if (found.blockedAt)
      skip(plan, dir, `${found.blockedAt} is a ${found.blockedKind} where a directory belongs; not followed`);
    return null;
  }
  if (found.entry.kind !== 'dir') {
    skip(plan, dir, await describeNonFile(ctx.fs, dir, found.entry));
    return null;
  }
  return ctx.fs.list(dir);
}

/** Removes everything below `dir` (not `dir` itself), deepest first; true when all of it goes. */
async function removeBelow(ctx: Context, plan: Plan, dir: string): Promise<boolean> {
  let all = true;
  for (const entry of await ctx.fs.list(dir)) {
    const path = join2(dir, entry.name);
    if (!isAddressable(path)) {
      skip(plan, path, UNADDRESSABLE);
      all = false;
    } else if (entry.kind === 'dir') {
      if (await removeBelow(ctx, plan, path)) {
        plan.commands.push(`rmdir ${q(path)}`);
        plan.result.removed.push(path);
      } else all = false;
    } else remove(plan, path);
  }
  return all;
}

async function machineId(ctx: Context, plan: Plan): Promise<void> {
  // Empty, not absent: systemd then makes a new one at first boot and treats the boot as the first.
  await atPath(ctx, plan, '/etc/machine-id', 'empty');
  await atPath(ctx, plan, '/var/lib/dbus/machine-id', 'remove', { removeLinks: true });
}

const UNIT_DIRS = ['/usr/lib/systemd/system', '/lib/systemd/system', '/etc/systemd/system'];
const WANTS_DIR = '/etc/systemd/system/multi-user.target.wants';
const RPI_UNIT = 'regenerate_ssh_host_keys.service';
const OUR_UNIT = 'rpi-deploy-ssh-host-keys.service';
const OUR_UNIT_TEXT = `[Unit]
Description=Make the SSH host keys rpi-deploy removed from the golden image
Before=ssh.service sshd.service
ConditionFileIsExecutable=/usr/bin/ssh-keygen

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
`;

async function unitDir(ctx: Context, name: string): Promise<string | null> {
  for (const dir of UNIT_DIRS) {
    const found = await ctx.fs.lookup(join2(dir, name));
    if (found.found && found.entry.kind === 'file') return dir;
  }
  return null;
}

/** Enables a unit the way `systemctl enable` does for WantedBy=multi-user.target. */
async function enable(ctx: Context, plan: Plan, unitPath: string, name: string): Promise<boolean> {
  const link = join2(WANTS_DIR, name);
  if ((await ctx.fs.lookup(link)).found) return false;
  const wants = await ctx.fs.lookup(WANTS_DIR);
  if (!wants.found) plan.commands.push(`mkdir ${q(WANTS_DIR)}`);
  plan.commands.push(`symlink ${q(link)} ${q(unitPath)}`);
  plan.result.added.push(link);
  return true;
}

/**
 * Removes the host keys, then makes sure something makes new ones at first boot: Raspberry Pi
 * OS's own regenerate_ssh_host_keys.service (raspberrypi-sys-mods; it disables itself after its
 * first run, so a golden board has it disabled and it is enabled again), or sshd-keygen where the
 * OS has it (it runs whenever keys are missing); otherwise a unit of ours running `ssh-keygen -A`.
 */
async function sshHostKeys(ctx: Context, plan: Plan): Promise<void> {
  const entries = await dirEntries(ctx, plan, '/etc/ssh');
  for (const entry of entries ?? []) {
    if (!entry.name.startsWith('ssh_host_')) continue;
    const path = join2('/etc/ssh', entry.name);
    if (entry.kind === 'file' || entry.kind === 'symlink') remove(plan, path);
    else skip(plan, path, await describeNonFile(ctx.fs, path, entry));
  }
  if (plan.result.removed.length === 0) {
    plan.result.note = 'no SSH host keys in the image';
    return;
  }
  const rpi = await unitDir(ctx, RPI_UNIT);
  if (rpi) {
    const enabled = await enable(ctx, plan, join2(rpi, RPI_UNIT), RPI_UNIT);
    plan.result.note = `new keys at first boot from Raspberry Pi OS's ${RPI_UNIT}${enabled ? ' (enabled again)' : ''}`;
    return;
  }
  for (const name of ['sshd-keygen.service', 'sshd-keygen@.service']) {
    if (await unitDir(ctx, name)) {
      plan.result.note = `new keys at first boot from the image's ${name}`;
      return;
    }
  }
  const system = await ctx.fs.lookup('/etc/systemd/system');
  if (!system.found || system.entry.kind !== 'dir') {
    plan.result.note = 'no systemd in the image: nothing makes new keys at first boot; run ssh-keygen -A on each board';
    return;
  }
  const unitPath = join2('/etc/systemd/system', OUR_UNIT);
  if (!(await ctx.fs.lookup(unitPath)).found) {
    const local = join(ctx.scratch, OUR_UNIT);
    await writeFile(local, OUR_UNIT_TEXT, { mode: 0o644 });
    plan.commands.push(
      'cd "/etc/systemd/system"',
      `write ${q(local)} ${q(OUR_UNIT)}`,
      'cd "/"',
      `sif ${q(unitPath)} mode 0100644`,
      `sif ${q(unitPath)} uid 0`,
      `sif ${q(unitPath)} gid 0`,
    );
    plan.result.added.push(unitPath);
  }
  await enable(ctx, plan, unitPath, OUR_UNIT);
  plan.result.note = `new keys at first boot from ${OUR_UNIT} (added: the image has no unit that makes them)`;
}

async function cloudInit(ctx: Context, plan: Plan): Promise<void> {
  // What `cloud-init clean` removes: all instance state, so first-boot user-data runs again.
  if (await dirEntries(ctx, plan, '/var/lib/cloud')) await removeBelow(ctx, plan, '/var/lib/cloud');
}

/** Journal files are named after the old machine-id and are removed; every other log is emptied. */
async function logs(ctx: Context, plan: Plan): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await ctx.fs.list(dir)) {
      const path = join2(dir, entry.name);
      if (path === '/var/log/journal') {
        await removeBelow(ctx, plan, path);
      } else if (entry.kind === 'dir') {
        await walk(path);
      } else if (entry.kind === 'file') {
        if (entry.sizeBytes > 0) empty(plan, path);
      } else if (entry.kind === 'symlink') {
        skip(plan, path, 'is a symbolic link; links are never followed');
      }
    }
  };
  if (await dirEntries(ctx, plan, '/var/log')) await walk('/var/log');
}

const HISTORIES = [
  '.bash_history',
  '.zsh_history',
  '.ash_history',
  '.sh_history',
  '.python_history',
  '.node_repl_history',
  '.lesshst',
  '.sqlite_history',
  '.mysql_history',
  '.psql_history',
  '.local/share/fish/fish_history',
];

async function shellHistory(ctx: Context, plan: Plan): Promise<void> {
  const homes = ['/root'];
  for (const entry of (await dirEntries(ctx, plan, '/home')) ?? [])
    if (entry.kind === 'dir') homes.push(join2('/home', entry.name));
  for (const home of homes) {
    for (const name of HISTORIES) {
      const path = `${home}/${name}`;
      const found = await ctx.fs.lookup(path);
      if (!found.found) continue;
      if (found.entry.kind === 'file') remove(plan, path);
      // A history linked to /dev/null is someone's deliberate choice.
      else skip(plan, path, await describeNonFile(ctx.fs, path, found.entry));
    }
  }
}

/** dhclient leases; dhcpcd leases, its DUID (the client identifier it sends) and its secret. */
const LEASE_DIRS: [string, RegExp][] = [
  ['/var/lib/dhcp', /\.leases?$/],
  ['/var/lib/dhclient', /\.leases?$/],
  ['/var/lib/dhcpcd', /./],
  ['/var/lib/dhcpcd5', /./],
];
/** NetworkManager's per-device leases and timestamps, and the secret its stable IDs derive from. */
const NETWORK_MANAGER: RegExp = /\.lease$|^timestamps$|^seen-bssids$|^secret_key$/;

async function networkState(ctx: Context, plan: Plan): Promise<void> {
  for (const [dir, pattern] of LEASE_DIRS) {
    for (const entry of (await dirEntries(ctx, plan, dir)) ?? [])
      if (entry.kind === 'file' && pattern.test(entry.name)) remove(plan, join2(dir, entry.name));
  }
  for (const path of ['/etc/dhcpcd.duid', '/etc/dhcpcd.secret']) await atPath(ctx, plan, path, 'remove');
  const nm = '/var/lib/NetworkManager';
  for (const entry of (await dirEntries(ctx, plan, nm)) ?? []) {
    const path = join2(nm, entry.name);
    if (entry.kind === 'file' && NETWORK_MANAGER.test(entry.name)) remove(plan, path);
    if (entry.kind === 'dir' && entry.name === 'devices') await removeBelow(ctx, plan, path);
  }
}

async function swap(ctx: Context, plan: Plan): Promise<void> {
  // dphys-swapfile (Raspberry Pi OS) makes /var/swap again at boot.
  for (const path of ['/var/swap', '/swapfile']) await atPath(ctx, plan, path, 'remove');
}

const STEPS: Record<SanitiseStep, (ctx: Context, plan: Plan) => Promise<void>> = {
  'machine-id': machineId,
  'ssh-host-keys': sshHostKeys,
  'cloud-init': cloudInit,
  logs,
  'shell-history': shellHistory,
  'network-state': networkState,
  swap,
};

/** The ext4 partition holding /etc: the root filesystem. */
async function findRoot(path: string): Promise<{ number: number; startBytes: number; fs: Debugfs }> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new ImageError(
      'IMAGE_FILE_UNREADABLE',
      `Cannot read image ${path}: ${(e as Error).message}`,
      { path },
      {
        cause: e,
      },
    );
  }
  try {
    const dev = fileDevice(handle, (await handle.stat()).size);
    const table = await readPartitionTable(dev);
    for (const entry of table.entries) {
      if (entry.isContainer || entry.startBytes + entry.sizeBytes > dev.sizeBytes) continue;
      const geometry = await readExt4Geometry(sliceDevice(dev, entry.startBytes, entry.sizeBytes));
      // debugfs would trust the superblock's size and could write into the next partition.
      if (!geometry || geometry.blocksCount * geometry.blockBytes > entry.sizeBytes) continue;
      const fs = openDebugfs(path, entry.startBytes, `root filesystem (partition ${entry.number})`);
      const etc = await fs.lookup('/etc').catch(async (e: unknown) => {
        // debugfs complains about a damaged filesystem as it opens it; e2fsck says what is wrong.
        await fs.check('before sanitising');
        throw e;
      });
      if (etc.found && etc.entry.kind === 'dir') return { number: entry.number, startBytes: entry.startBytes, fs };
    }
  } finally {
    await handle.close();
  }
  throw new ImageError(
    'IMAGE_NO_ROOT_FILESYSTEM',
    `${path} has no ext4 partition holding /etc that fits its partition, so there is nothing to sanitise; ` +
      'import it without --sanitise',
    { path },
  );
}

/** Every step that changed something must read back changed. */
async function verify(fs: Debugfs, results: SanitiseStepResult[]): Promise<void> {
  for (const r of results) {
    for (const path of r.removed) {
      if ((await fs.lookup(path)).found) throw unverified(path, 'is still there');
    }
    for (const path of r.emptied) {
      const found = await fs.lookup(path);
      if (!found.found || found.entry.sizeBytes !== 0) throw unverified(path, 'is not empty');
    }
  }
}

const unverified = (path: string, what: string) =>
  new ImageError('IMAGE_SANITISE_FAILED', `After sanitising, ${path} ${what}; the image is not sanitised`, { path });

/**
 * Resets a golden board's identity in a raw image file, in place, before its manifest is made
 * (issue 14 "Sanitise"): each step of SANITISE_STEPS unless kept, all through debugfs on the ext4
 * root, without mounting. The filesystem must pass `e2fsck -fn` before and after. Symbolic links
 * and unexpected file types are reported as skipped, never followed.
 */
export async function sanitiseImage(path: string, opts: SanitiseOptions = {}): Promise<SanitiseReport> {
  const keep = new Set(opts.keep ?? []);
  for (const step of keep) {
    if (!SANITISE_STEPS.includes(step))
      throw new ImageError(
        'IMAGE_INPUT_INVALID',
        `There is no sanitise step "${String(step)}"; the steps are ${SANITISE_STEPS.join(', ')}`,
        { field: 'keep' },
      );
  }
  const root = await findRoot(path);
  const { fs } = root;
  await fs.check('before sanitising');
  const scratch = await mkdtemp(join(tmpdir(), 'rpi-deploy-sanitise-'));
  try {
    const plans: Plan[] = [];
    for (const step of SANITISE_STEPS) {
      const plan = newPlan(step);
      if (keep.has(step)) plan.result.kept = true;
      else await STEPS[step]({ fs, scratch }, plan);
      plans.push(plan);
    }
    await fs.write(plans.flatMap((p) => p.commands));
    const steps = plans.map((p) => p.result);
    await verify(fs, steps);
    await fs.check('after sanitising');
    return { partitionNumber: root.number, steps };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
