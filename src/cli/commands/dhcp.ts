import { InvalidArgumentError, type Command } from 'commander';
import { ipToInt } from '../../lib/ipv4.js';
import { isLeaseHeld, listDhcpLeases, probeDhcpServers, type Lease, type NetbootStatus } from '../../netboot/index.js';
import { configFor, formatOf, withCore } from '../context.js';
import { parseInteger } from '../options.js';
import { print, printJson, type Column } from '../output.js';

const LEASE_COLUMNS: Column<Lease & { active: boolean }>[] = [
  { title: 'ip', value: (l) => l.ip },
  { title: 'mac', value: (l) => l.mac },
  { title: 'state', value: (l) => (l.active || l.state === 'released' ? l.state : 'expired') },
  { title: 'expires', value: (l) => l.expiresAt },
  { title: 'serial8', value: (l) => l.serial8 },
  { title: 'hostname', value: (l) => l.hostname },
];

/** The netboot lines of `serve`'s banner. */
export function describeNetboot(status: NetbootStatus | null): string {
  if (!status) return '  network boot    off (set netboot.interface or --netboot-interface)\n';
  const dhcp = status.dhcp;
  const what = !dhcp ? 'off' : dhcp.range ? `full mode, ${dhcp.range.start}-${dhcp.range.end}` : 'proxy mode';
  const tftp = status.tftp ? `${status.tftp.address}:${status.tftp.port}` : 'off';
  return `  network boot    ${status.interface} (${status.address})\n  DHCP            ${what}\n  TFTP            ${tftp}\n`;
}

function ipOrder(a: Lease, b: Lease): number {
  return ipToInt(a.ip) - ipToInt(b.ip);
}

export function registerDhcp(dhcp: Command): void {
  dhcp
    .command('leases')
    .description('addresses handed out in full mode (current ones; --all adds released and expired)')
    .option('--all', 'include released and expired leases')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action((opts: { all?: boolean; json?: boolean; csv?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ store }) => {
        const now = new Date().toISOString();
        const rows = (await listDhcpLeases(store))
          .sort(ipOrder)
          .map((l) => ({ ...l, active: isLeaseHeld(l, now) }))
          .filter((l) => opts.all || l.active);
        print(formatOf(opts), rows, LEASE_COLUMNS, 'No leases.');
      }),
    );

  dhcp
    .command('probe')
    .description('look for other DHCP servers on the deployment interface (sends one DISCOVER; needs root)')
    .option('--interface <name>', 'interface to probe (default: netboot.interface)')
    .option('--wait-ms <ms>', 'how long to listen for answers (default 3000)', parseInteger)
    .option('--json', 'print JSON')
    .action(async (opts: { interface?: string; waitMs?: number; json?: boolean }, cmd: Command) => {
      const config = configFor(cmd, { 'netboot.interface': opts.interface });
      const name = config.netboot.interface;
      if (!name) throw new InvalidArgumentError('name the interface: --interface eth1 (or set netboot.interface)');
      const servers = await probeDhcpServers(
        name,
        config.netboot.address,
        opts.waitMs ?? config.netboot.dhcp.foreignServer.probeMs,
      );
      if (opts.json) return printJson(servers);
      if (servers.length === 0) process.stdout.write(`No DHCP server answered on ${name}.\n`);
      for (const s of servers)
        process.stdout.write(
          `DHCP server ${s.serverId} (from ${s.from})${s.offered ? ` offered ${s.offered}` : ' sent boot options only (proxy)'}\n`,
        );
    });
}
