import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { OperationsError } from './errors.js';
import { renderServiceUnit } from './systemd-unit.js';

/** Where `service install` puts things; the defaults are the FHS places a Debian admin expects. */
export interface ServicePaths {
  user: string;
  configFile: string;
  dataDir: string;
  unitFile: string;
  /** The node binary and the rpi-deploy entry point the unit runs. */
  node: string;
  cli: string;
}

export const DEFAULT_SERVICE_PATHS = {
  user: 'rpi-deploy',
  configFile: '/etc/rpi-deploy/config.yaml',
  dataDir: '/var/lib/rpi-deploy',
  unitFile: '/etc/systemd/system/rpi-deploy.service',
} as const;

export const SERVICE_NAME = 'rpi-deploy';

/** What a step says it does, and the change itself (absent: nothing to change, it is only reported). */
interface Step {
  say: string;
  apply?: () => void;
}

export interface ServiceRun {
  /** Print the steps instead of taking them. */
  dryRun: boolean;
  /** Each line of what was (or would be) done. */
  out: (line: string) => void;
}

/** The config a fresh install starts from: safe defaults, with the keys an operator must look at. */
export function initialConfig(dataDir: string): string {
  return `# rpi-deploy configuration, written by "rpi-deploy service install" (kept on reinstall and uninstall).
# After a change: systemctl restart rpi-deploy. Check the site with: rpi-deploy doctor --config ${DEFAULT_SERVICE_PATHS.configFile}
dataDir: ${dataDir}
device:
  # Boards reach the device API here: the deployment-LAN address, e.g. 192.168.151.1:5001.
  listen: 127.0.0.1:5001
management:
  # The web UI; keep it off the deployment LAN (an SSH tunnel reaches loopback).
  listen: 127.0.0.1:5000
netboot:
  # The deployment-LAN interface (e.g. eth1), with a static address; DHCP and TFTP stay off until it is set.
  interface: null
`;
}

function commandOk(argv: string[]): boolean {
  try {
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function runCommand(argv: string[]): void {
  try {
    execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (cause) {
    const stderr = String((cause as { stderr?: string }).stderr ?? '').trim();
    throw new OperationsError(
      'OPS_COMMAND_FAILED',
      `"${argv.join(' ')}" failed: ${stderr || (cause as Error).message}`,
      { argv },
      { cause },
    );
  }
}

function idsOf(user: string): { uid: number; gid: number } {
  const line = execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).trim();
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** systemd runs as PID 1 (not in a container or chroot without it): systemctl can act. */
const systemdRunning = () => existsSync('/run/systemd/system');

/**
 * ProtectHome hides /home, /root and /run/user from the service: a program installed there
 * cannot start. Refused before anything is written.
 */
function checkReachable(p: ServicePaths): void {
  for (const path of [p.node, p.cli]) {
    if (/^\/(home|root|run\/user)(\/|$)/.test(path)) {
      throw new OperationsError(
        'OPS_INSTALL_PATH_HIDDEN',
        `${path} is under /home, /root or /run/user, which the service cannot see (ProtectHome); ` +
          'put rpi-deploy in /opt (e.g. git clone ... /opt/rpi-deploy && cd /opt/rpi-deploy && npm ci && npm run build) and install from there',
        { path },
      );
    }
  }
}

/** Directories on the way to `path` that others cannot enter: the service user could not reach it. */
function closedAncestors(path: string): string[] {
  const closed: string[] = [];
  for (let dir = dirname(path); dir !== '/'; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) closed.push(dir);
  }
  return closed;
}

function installSteps(p: ServicePaths): Step[] {
  const steps: Step[] = [];
  if (commandOk(['getent', 'passwd', p.user])) steps.push({ say: `user ${p.user} exists, kept` });
  else {
    const argv = [
      'useradd',
      '--system',
      '--user-group',
      '--home-dir',
      p.dataDir,
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      p.user,
    ];
    steps.push({ say: `create system user ${p.user}: ${argv.join(' ')}`, apply: () => runCommand(argv) });
  }
  steps.push({
    say: `data directory ${p.dataDir}: owned by ${p.user}, mode 0700`,
    apply: () => {
      mkdirSync(p.dataDir, { recursive: true });
      const { uid, gid } = idsOf(p.user);
      chownSync(p.dataDir, uid, gid);
      chmodSync(p.dataDir, 0o700);
    },
  });
  if (existsSync(p.configFile)) steps.push({ say: `config ${p.configFile} exists, kept` });
  else {
    steps.push({
      say: `write config ${p.configFile} (root:${p.user}, mode 0640; set netboot.interface and device.listen there)`,
      apply: () => {
        mkdirSync(dirname(p.configFile), { recursive: true, mode: 0o755 });
        writeFileSync(p.configFile, initialConfig(p.dataDir), { mode: 0o640, flag: 'wx' });
        chownSync(p.configFile, 0, idsOf(p.user).gid);
      },
    });
  }
  const unit = renderServiceUnit({
    execStart: [p.node, p.cli, 'serve', '--config', p.configFile],
    user: p.user,
    dataDir: p.dataDir,
  });
  steps.push({
    say: `write unit ${p.unitFile}:\n${unit.replace(/^/gm, '    ')}`,
    apply: () => {
      mkdirSync(dirname(p.unitFile), { recursive: true });
      writeFileSync(p.unitFile, unit, { mode: 0o644 });
    },
  });
  if (systemdRunning())
    steps.push({
      say: 'reload systemd: systemctl daemon-reload',
      apply: () => runCommand(['systemctl', 'daemon-reload']),
    });
  return steps;
}

function uninstallSteps(p: ServicePaths): Step[] {
  const steps: Step[] = [];
  if (systemdRunning()) {
    steps.push({
      say: `stop and disable: systemctl disable --now ${SERVICE_NAME}`,
      apply: () => runCommand(['systemctl', 'disable', '--now', SERVICE_NAME]),
    });
  }
  if (existsSync(p.unitFile)) steps.push({ say: `remove unit ${p.unitFile}`, apply: () => rmSync(p.unitFile) });
  else steps.push({ say: `unit ${p.unitFile} is not there` });
  if (systemdRunning())
    steps.push({
      say: 'reload systemd: systemctl daemon-reload',
      apply: () => runCommand(['systemctl', 'daemon-reload']),
    });
  steps.push({
    say: `keep data ${p.dataDir}, config ${p.configFile} and user ${p.user} (remove them by hand if they are not wanted)`,
  });
  return steps;
}

function requireRoot(dryRun: boolean, what: string): void {
  if (!dryRun && process.getuid?.() !== 0) {
    throw new OperationsError(
      'OPS_NOT_ROOT',
      `${what} changes system files and needs root: run it with sudo, or add --dry-run to see what it would do`,
    );
  }
}

function perform(steps: Step[], run: ServiceRun): void {
  for (const step of steps) {
    if (!step.apply) run.out(`  ${step.say}`);
    else if (run.dryRun) run.out(`  would ${step.say}`);
    else {
      step.apply();
      run.out(`  done: ${step.say}`);
    }
  }
}

/** Writes the user, data dir, config (only when none exists) and unit; prints each step. */
export function installService(paths: ServicePaths, run: ServiceRun): void {
  requireRoot(run.dryRun, 'rpi-deploy service install');
  checkReachable(paths);
  run.out(run.dryRun ? 'Dry run: nothing is written.' : 'Installing the rpi-deploy service:');
  perform(installSteps(paths), run);
  for (const dir of closedAncestors(paths.cli))
    run.out(
      `  warning: ${dir} is closed to other users; the service user cannot reach ${paths.cli} (chmod o+x ${dir})`,
    );
  run.out(
    `Next: set netboot.interface and device.listen in ${paths.configFile}, then: systemctl enable --now ${SERVICE_NAME}; journalctl -u ${SERVICE_NAME} -f`,
  );
}

/** Stops and removes the unit; the data, config and user stay. */
export function uninstallService(paths: ServicePaths, run: ServiceRun): void {
  requireRoot(run.dryRun, 'rpi-deploy service uninstall');
  run.out(run.dryRun ? 'Dry run: nothing is changed.' : 'Removing the rpi-deploy service:');
  perform(uninstallSteps(paths), run);
}
