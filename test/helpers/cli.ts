import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built command, exactly as an operator runs it (npm test builds first). */
export const CLI = fileURLToPath(new URL('../../bin/rpi-deploy.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    env: { ...cleanEnv(), ...options.env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `serve` arguments for a server on `dataDir` with both listeners on loopback at free ports. */
export function loopbackListen(dataDir: string): string[] {
  return ['--data-dir', dataDir, '--device-listen', '127.0.0.1:0', '--management-listen', '127.0.0.1:0'];
}

/** loopbackListen, warnings only. */
export function loopbackServe(dataDir: string): string[] {
  return [...loopbackListen(dataDir), '--log-level', 'warn'];
}

/**
 * Starts `rpi-deploy serve` and resolves once it printed its addresses. `wrap` runs it through
 * a command that execs it (e.g. `ip netns exec NS`), so `child.pid` is still the server's.
 */
export function spawnServe(
  args: string[],
  options: { wrap?: string[] } = {},
): Promise<{ device: string; management: string; banner: string; child: ReturnType<typeof spawn> }> {
  const argv = [...(options.wrap ?? []), process.execPath, CLI, 'serve', ...args];
  const child = spawn(argv[0]!, argv.slice(1), { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const device = /device API\s+(\S+)/.exec(out)?.[1];
      const management = /management API\s+(\S+)/.exec(out)?.[1];
      if (device && management && out.includes('Press Ctrl-C')) resolve({ device, management, banner: out, child });
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

/** The test runner's environment without any RPI_DEPLOY_* settings that would leak in. */
export function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => !k.startsWith('RPI_DEPLOY_') && v !== undefined),
  ) as Record<string, string>;
}
