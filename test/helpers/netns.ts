import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * Test networks made of network namespaces the test creates itself (DESIGN §5). Every address
 * must lie in 198.18.0.0/15 (the benchmarking range); nothing touches a host interface.
 * `destroy()` kills what was started and deletes the namespaces (their veths and bridges go too).
 */

let counter = 0;

/** 198.18.0.0/15: 198.18.x.y and 198.19.x.y. */
export function isTestAddress(address: string): boolean {
  return /^198\.(18|19)\.\d{1,3}\.\d{1,3}$/.test(address);
}

function run(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr || r.error?.message}`);
  return r.stdout;
}

export class NetLab {
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly tag: string;

  private constructor() {
    // Interface names are limited to 15 characters; pid + counter keeps parallel runs apart.
    this.tag = `${(process.pid % 10000).toString(36)}${(counter++).toString(36)}`;
  }

  static create(): NetLab {
    run(['ip', '-V']);
    return new NetLab();
  }

  /** A fresh namespace with loopback up; returns its full name. */
  namespace(short: string): string {
    const name = `rd${this.tag}${short}`;
    run(['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
    run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A veth pair between two namespaces, with `a/prefix` and `b/prefix` addresses (both in 198.18.0.0/15). */
  link(
    nsA: string,
    ifA: string,
    cidrA: string | null,
    nsB: string,
    ifB: string,
    cidrB: string | null,
    mtu = 1500,
  ): void {
    for (const cidr of [cidrA, cidrB])
      if (cidr && !isTestAddress(cidr.split('/')[0]!)) throw new Error(`${cidr} is outside 198.18.0.0/15`);
    const tmpA = `va${this.tag}${counter++}`.slice(0, 15);
    const tmpB = `vb${this.tag}${counter++}`.slice(0, 15);
    run(['ip', 'link', 'add', tmpA, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', tmpB, 'mtu', String(mtu)]);
    run(['ip', 'link', 'set', tmpA, 'netns', nsA, 'name', ifA]);
    run(['ip', 'link', 'set', tmpB, 'netns', nsB, 'name', ifB]);
    for (const [ns, ifName, cidr] of [
      [nsA, ifA, cidrA],
      [nsB, ifB, cidrB],
    ] as const) {
      if (cidr) run(['ip', '-n', ns, 'addr', 'add', cidr, 'dev', ifName]);
      run(['ip', '-n', ns, 'link', 'set', ifName, 'up']);
    }
  }

  /** A bridge inside `ns` (a switch for many clients); attach ports with `link` + `enslave`. */
  bridge(ns: string, name: string, cidr: string | null): void {
    if (cidr && !isTestAddress(cidr.split('/')[0]!)) throw new Error(`${cidr} is outside 198.18.0.0/15`);
    run(['ip', '-n', ns, 'link', 'add', name, 'type', 'bridge']);
    if (cidr) run(['ip', '-n', ns, 'addr', 'add', cidr, 'dev', name]);
    run(['ip', '-n', ns, 'link', 'set', name, 'up']);
  }

  enslave(ns: string, ifName: string, bridge: string): void {
    run(['ip', '-n', ns, 'link', 'set', ifName, 'master', bridge]);
  }

  /** Runs a command inside `ns` to completion. */
  exec(
    ns: string,
    argv: string[],
    options: { input?: string; timeoutMs?: number } = {},
  ): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], {
      encoding: 'utf8',
      input: options.input ?? '',
      timeout: options.timeoutMs ?? 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Starts a long-running command inside `ns`; it is killed by `destroy()`. */
  spawn(ns: string, argv: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  async destroy(): Promise<void> {
    await Promise.all(
      [...this.children].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGKILL');
          }),
      ),
    );
    for (const ns of this.namespaces.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
  }
}
