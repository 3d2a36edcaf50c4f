import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { CLI, cleanEnv } from './cli.js';
import { NetLab } from './netns.js';
import type { ReplayOptions, ReplayResult } from './pi5-dhcp-replayer.js';
import { tempDir } from './temp-dir.js';

/**
 * A deployment LAN in namespaces (DESIGN §5): a switch (bridge), the rpi-deploy host with its
 * deployment interface `lan0` (198.18.0.1/24) on the switch and a second interface `wrong0`
 * (198.19.0.1/24) to another network, and clients that plug into either.
 */

export const SERVER_ADDRESS = '198.18.0.1';
const REPLAYER = fileURLToPath(new URL('./pi5-dhcp-replayer.ts', import.meta.url));

export interface Served {
  child: ChildProcess;
  stdout(): string;
  /** The JSON log lines on stderr. */
  logs(): Record<string, unknown>[];
  /** Waits until a log line satisfies `match` (the server logs every event it publishes). */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown> | undefined>;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export class DhcpLab {
  readonly lab = NetLab.create();
  readonly server: string;
  readonly switch: string;
  /** The network on the server's other interface. */
  readonly other: string;
  readonly dir = tempDir('rpi-deploy-dhcp-');
  private ports = 0;

  /** `prefixLength` sizes the deployment LAN (24 by default; the benchmark needs more addresses). */
  constructor(readonly prefixLength = 24) {
    this.switch = this.lab.namespace('sw');
    this.lab.bridge(this.switch, 'br0', null);
    this.server = this.lab.namespace('srv');
    this.plug(this.server, 'lan0', `${SERVER_ADDRESS}/${prefixLength}`);
    this.other = this.lab.namespace('oth');
    this.lab.link(this.server, 'wrong0', '198.19.0.1/24', this.other, 'eth0', null);
    this.lab.exec(this.other, ['ip', 'route', 'add', '255.255.255.255/32', 'dev', 'eth0']);
  }

  get dataDir(): string {
    return join(this.dir.path, 'data');
  }

  /** Connects `ns` to the switch as `ifName`; without an address a client can still broadcast (like a Pi). */
  plug(ns: string, ifName: string, cidr: string | null): void {
    const port = `p${this.ports++}`;
    this.lab.link(ns, ifName, cidr, this.switch, port, null);
    this.lab.enslave(this.switch, port, 'br0');
    // Without a default route the kernel refuses to send to 255.255.255.255; DHCP clients need it.
    this.lab.exec(ns, ['ip', 'route', 'add', '255.255.255.255/32', 'dev', ifName]);
  }

  /** A client namespace on the switch, `eth0` without an address. */
  client(name: string): string {
    const ns = this.lab.namespace(name);
    this.plug(ns, 'eth0', null);
    return ns;
  }

  /** Starts `rpi-deploy serve` from the build in the server namespace and waits for its banner. */
  async serve(
    netboot: Record<string, unknown>,
    args: string[] = [],
    logLevel = 'debug',
    /** More top-level settings, e.g. `{ management: { metrics: { fromLocalhost: true } } }`. */
    settings: Record<string, unknown> = {},
  ): Promise<Served> {
    const config = join(this.dir.path, `config-${Date.now()}.yaml`);
    writeFileSync(
      config,
      stringify({
        ...settings,
        dataDir: this.dataDir,
        log: { level: logLevel },
        netboot: { interface: 'lan0', ...netboot },
      }),
    );
    const child = this.lab.spawn(
      this.server,
      [
        process.execPath,
        CLI,
        'serve',
        '--config',
        config,
        '--device-listen',
        '127.0.0.1:0',
        '--management-listen',
        '127.0.0.1:0',
        ...args,
      ],
      {
        env: cleanEnv(),
      },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const served: Served = {
      child,
      stdout: () => out,
      logs: () =>
        err
          .split('\n')
          .filter((l) => l.startsWith('{') && l.endsWith('}'))
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      async waitForLog(match, timeoutMs = 5000) {
        for (const end = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 50))) {
          const line = served.logs().find(match);
          if (line || Date.now() > end) return line;
        }
      },
      stop: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve(child.exitCode);
          child.once('exit', (code) => resolve(code));
          child.kill('SIGTERM');
        }),
    };
    await new Promise<void>((resolve, reject) => {
      const check = () => out.includes('Press Ctrl-C') && resolve();
      child.stdout!.on('data', check);
      child.once('exit', (code) =>
        reject(
          Object.assign(
            new Error(
              `serve exited with ${code}: ${err
                .split('\n')
                .filter((l) => !l.startsWith('{'))
                .join('\n')}`,
            ),
            { code, served },
          ),
        ),
      );
    });
    return served;
  }

  /** Runs the Pi 5 bootloader replayer in `ns`. */
  async replay(ns: string, o: Omit<ReplayOptions, 'iface'> & { iface?: string }): Promise<ReplayResult> {
    const r = await this.run(ns, [
      process.execPath,
      '--import',
      'tsx',
      REPLAYER,
      JSON.stringify({ iface: 'eth0', ...o }),
    ]);
    if (r.code !== 0) throw new Error(`replayer failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as ReplayResult;
  }

  /**
   * Runs a command in `ns` to completion without blocking this process: a served process keeps
   * writing logs to our pipes meanwhile, and a blocked reader would stall it.
   */
  run(
    ns: string,
    argv: string[],
    timeoutMs = 60_000,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /**
   * A site DHCP server (dnsmasq) in its own namespace on the switch, by default at 198.18.0.254
   * handing out 198.18.0.50–90: the existing network that proxy mode works next to.
   */
  async siteDhcp(name = 'site', o: { cidr?: string; range?: string; log?: boolean } = {}): Promise<ChildProcess> {
    const ns = this.lab.namespace(name);
    this.plug(ns, 'eth0', o.cidr ?? '198.18.0.254/24');
    const files = join(this.dir.path, name);
    const child = this.lab.spawn(ns, [
      'dnsmasq',
      '--no-daemon',
      '--conf-file=/dev/null',
      '--port=0',
      '--interface=eth0',
      '--bind-interfaces',
      '--no-ping',
      '--log-facility=-',
      ...(o.log === false ? [] : ['--log-dhcp']),
      `--dhcp-range=${o.range ?? '198.18.0.50,198.18.0.90,255.255.255.0,10m'}`,
      '--dhcp-lease-max=100000',
      `--dhcp-leasefile=${files}.leases`,
      `--pid-file=${files}.pid`,
      '--user=root',
      '--group=root',
    ]);
    let err = '';
    await new Promise<void>((resolve, reject) => {
      const check = (d: Buffer) => {
        err += d.toString();
        if (err.includes('DHCP, IP range')) resolve();
      };
      child.stderr!.on('data', check);
      child.stdout!.on('data', check);
      child.once('exit', (code) => reject(new Error(`dnsmasq exited (${code}): ${err}`)));
    });
    return child;
  }

  async destroy(): Promise<void> {
    await this.lab.destroy();
    this.dir.remove();
  }
}

/** A busybox udhcpc script that configures the lease (so renewals can be unicast) and prints it. */
export const UDHCPC_SCRIPT = `#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    echo "EVENT $1 ip=$ip serverid=$serverid lease=$lease siaddr=$siaddr" ;;
  deconfig) ip addr flush dev "$interface"; echo "EVENT deconfig" ;;
  *) echo "EVENT $1" ;;
esac
`;
