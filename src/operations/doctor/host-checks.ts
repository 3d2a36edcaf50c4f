import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseListen, type Config } from '../../config/index.js';
import {
  checkDhcpRange,
  DHCP_SERVER_PORT,
  probeDhcpServers,
  resolveDeploymentLan,
  type DeploymentLan,
} from '../../netboot/index.js';
import type { DoctorCheck } from '../../protocol/doctor.js';
import { formatBytes } from '../../protocol/units.js';
import { fail, pass, warn } from './check.js';

/** Checks of the machine itself: the data directory, the deployment interface, ports, other DHCP servers. */

/** Writable, and free space for the biggest active image again (its next version) plus the low-disk margin. */
export async function checkDataDir(
  dataDir: string,
  o: { lowBytes: number; largestImageBytes: number },
): Promise<DoctorCheck> {
  const probe = join(dataDir, `.doctor-${process.pid}`);
  try {
    await writeFile(probe, 'rpi-deploy doctor\n');
    await rm(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT'
        ? 'does not exist'
        : e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS'
          ? 'is not writable'
          : e.message;
    return fail(
      'data-dir',
      `data directory ${dataDir} ${why}`,
      `create it and give it to the user rpi-deploy runs as: install -d -m 0700 -o rpi-deploy ${dataDir}`,
    );
  }
  const s = await statfs(dataDir);
  const free = s.bavail * s.bsize;
  const need = o.largestImageBytes + o.lowBytes;
  const summary = `data directory ${dataDir} is writable, ${formatBytes(free)} free`;
  if (free < o.largestImageBytes)
    return fail(
      'data-dir',
      `${summary}: less than the largest active image (${formatBytes(o.largestImageBytes)})`,
      'free space or move dataDir to a bigger disk',
    );
  if (free < need)
    return warn(
      'data-dir',
      `${summary}: below ${formatBytes(need)} (the largest active image again plus management.diskLowMiB)`,
      'free space before importing the next image',
    );
  return pass('data-dir', summary);
}

/** The interface's flags say up (IFF_UP); carrier says whether a cable or switch is there. */
function linkState(name: string): { up: boolean; carrier: boolean } {
  const read = (f: string) => readFileSync(`/sys/class/net/${name}/${f}`, 'utf8').trim();
  const up = (Number(read('flags')) & 1) === 1;
  let carrier = false;
  try {
    carrier = read('carrier') === '1';
  } catch {
    // Reading carrier of a down interface fails (EINVAL): no carrier.
  }
  return { up, carrier };
}

/** iproute2 marks addresses handed out by DHCP (or SLAAC) "dynamic"; a deployment server needs a static one. */
function isDynamic(name: string, address: string): boolean {
  try {
    const out = JSON.parse(
      execFileSync('ip', ['-j', '-4', 'addr', 'show', 'dev', name], { encoding: 'utf8' }),
    ) as Array<{ addr_info?: Array<{ local?: string; dynamic?: boolean }> }>;
    return out.some((l) => l.addr_info?.some((a) => a.local === address && a.dynamic === true));
  } catch {
    return false;
  }
}

/** The deployment interface exists, is up, and holds a static address whose subnet holds the DHCP range. */
export function checkInterface(netboot: Config['netboot']): { check: DoctorCheck; lan: DeploymentLan | null } {
  const name = netboot.interface;
  if (name === null) {
    return {
      lan: null,
      check: warn(
        'interface',
        'network boot is off: netboot.interface is not set',
        'set netboot.interface to the deployment-LAN interface (e.g. eth1) to serve DHCP and TFTP',
      ),
    };
  }
  if (!existsSync(`/sys/class/net/${name}`)) {
    return {
      lan: null,
      check: fail(
        'interface',
        `network interface ${name} does not exist`,
        'set netboot.interface to one that "ip -brief link" lists',
      ),
    };
  }
  const { up, carrier } = linkState(name);
  if (!up)
    return {
      lan: null,
      check: fail(
        'interface',
        `network interface ${name} is down`,
        `bring it up: ip link set ${name} up (and make it permanent in /etc/network/interfaces)`,
      ),
    };
  let lan: DeploymentLan;
  try {
    lan = resolveDeploymentLan(name, netboot.address);
  } catch (err) {
    return {
      lan: null,
      check: fail(
        'interface',
        (err as Error).message.split(';')[0]!,
        (err as Error).message.split(';').slice(1).join(';').trim() || undefined,
      ),
    };
  }
  const at = `${name} is up with ${lan.address}/${lan.prefixLength}`;
  if (netboot.dhcp.enabled && netboot.dhcp.mode === 'full') {
    try {
      checkDhcpRange(netboot.dhcp, lan);
    } catch (err) {
      const [what, ...fix] = (err as Error).message.split(';');
      return { lan, check: fail('interface', `${at}, but ${what}`, fix.join(';').trim()) };
    }
  }
  if (isDynamic(name, lan.address)) {
    return {
      lan,
      check: warn(
        'interface',
        `${at}, an address from DHCP that can change`,
        `give ${name} a static address (e.g. in /etc/network/interfaces: iface ${name} inet static)`,
      ),
    };
  }
  if (!carrier)
    return { lan, check: warn('interface', `${at}, but has no link`, 'plug it into the deployment switch') };
  return {
    lan,
    check: pass(
      'interface',
      `${at}${netboot.dhcp.enabled && netboot.dhcp.mode === 'full' ? `, range ${netboot.dhcp.range.start}-${netboot.dhcp.range.end} inside` : ''}`,
    ),
  };
}

/** Local UDP ports bound in this network namespace, from /proc (no privilege needed). */
function boundUdpPorts(): Set<number> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local) ports.add(parseInt(local.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Whether an rpi-deploy answers /health at `listen`: the port is then ours. */
async function rpiDeployAt(listen: string): Promise<boolean> {
  const { host, port } = parseListen(listen);
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  try {
    const res = await fetch(`http://${target.includes(':') ? `[${target}]` : target}:${port}/health`, {
      signal: AbortSignal.timeout(1000),
    });
    const body = (await res.json()) as { version?: unknown; database?: unknown };
    return typeof body.version === 'string' && typeof body.database === 'object';
  } catch {
    return false;
  }
}

/** Whether this process could listen on a TCP address: null when it can, else the errno code. */
function tcpListenError(listen: string): Promise<string | null> {
  const { host, port } = parseListen(listen);
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/**
 * Ports 67 and 69 (UDP) and both HTTP listeners are free, or held by the rpi-deploy that is
 * running with this config (its device API answers /health).
 */
export async function checkPorts(config: Readonly<Config>): Promise<DoctorCheck> {
  const ours = await rpiDeployAt(config.device.listen);
  const problems: string[] = [];
  const udp = boundUdpPorts();
  if (config.netboot.interface !== null) {
    const wanted = [
      ...(config.netboot.dhcp.enabled ? [['DHCP', DHCP_SERVER_PORT] as const] : []),
      ...(config.netboot.tftp.enabled ? [['TFTP', config.netboot.tftp.port] as const] : []),
    ];
    for (const [what, port] of wanted)
      if (udp.has(port) && !ours) problems.push(`UDP port ${port} (${what}) is held by another program`);
  }
  for (const [what, listen] of [
    ['device API', config.device.listen],
    ['management API', config.management.listen],
  ] as const) {
    if (parseListen(listen).port === 0 || ours) continue;
    const error = await tcpListenError(listen);
    if (error === 'EADDRINUSE') problems.push(`${listen} (${what}) is in use by another program`);
    else if (error === 'EADDRNOTAVAIL') problems.push(`${listen} (${what}) is not an address of this machine`);
    else if (error === 'EACCES') problems.push(`${listen} (${what}) needs the capability CAP_NET_BIND_SERVICE`);
    else if (error !== null) problems.push(`${listen} (${what}): ${error}`);
  }
  if (problems.length > 0) {
    return fail(
      'ports',
      problems.join('; '),
      'find the holder with "ss -lunp" / "ss -ltnp" and stop it (dnsmasq: except-interface=...), or choose other listen addresses',
    );
  }
  return pass(
    'ports',
    ours
      ? 'ports 67/69 and both listeners are held by the rpi-deploy running with this config'
      : 'ports 67/69 and both listeners are free',
  );
}

/** Asks the LAN for DHCP servers as `dhcp probe` does. Full mode must be alone; proxy mode needs the site's server. */
export async function checkForeignDhcp(
  netboot: Config['netboot'],
  lan: DeploymentLan,
  cli: string,
): Promise<DoctorCheck> {
  if (!netboot.dhcp.enabled) return pass('foreign-dhcp', 'DHCP is off (netboot.dhcp.enabled: false); not probed');
  let servers;
  try {
    servers = await probeDhcpServers(lan.interface, lan.address, netboot.dhcp.foreignServer.probeMs);
  } catch (err) {
    return warn(
      'foreign-dhcp',
      `could not probe ${lan.interface} for DHCP servers: ${(err as Error).message}`,
      `run ${cli} doctor as root (or as the service user) to probe`,
    );
  }
  const found = servers
    .map((s) => `${s.serverId}${s.offered ? ` (offered ${s.offered})` : ' (boot options only)'}`)
    .join(', ');
  if (netboot.dhcp.mode === 'full') {
    if (servers.length > 0) {
      return fail(
        'foreign-dhcp',
        `another DHCP server answers on ${lan.interface}: ${found}`,
        `stop it or keep it off the deployment LAN (dnsmasq: except-interface=...), or set netboot.dhcp.mode: proxy to work next to it`,
      );
    }
    return pass('foreign-dhcp', `no other DHCP server answered on ${lan.interface}`);
  }
  if (servers.length === 0)
    return warn(
      'foreign-dhcp',
      `proxy mode, but no DHCP server answered on ${lan.interface}: boards get no address`,
      'start the site DHCP server, or set netboot.dhcp.mode: full',
    );
  return pass('foreign-dhcp', `proxy mode next to ${found}`);
}

/** The clock is not behind what the database already recorded (boards' tokens and leases expire by it). */
export function checkClock(now: Date, newestRecorded: string | null): DoctorCheck {
  if (now.getUTCFullYear() < 2025)
    return fail('clock', `the clock says ${now.toISOString()}`, 'set the time (timedatectl set-ntp true, or date -s)');
  if (newestRecorded && Date.parse(newestRecorded) > now.getTime() + 60_000) {
    return fail(
      'clock',
      `the clock (${now.toISOString()}) is behind the newest recorded event (${newestRecorded})`,
      'set the time (timedatectl set-ntp true); leases and boot tokens expire by it',
    );
  }
  return pass('clock', `the clock reads ${now.toISOString()}`);
}
