import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { NetbootError } from './errors.js';
import { subnetOf, type Subnet } from '../lib/ipv4.js';

/** The deployment LAN as seen from this host: the interface, our address on it and its subnet. */
export interface DeploymentLan extends Subnet {
  interface: string;
  /** This server's IPv4 address on the LAN: the DHCP server identifier and the TFTP server. */
  address: string;
  /** The interface's hardware address, `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** Largest IP packet the LAN carries (TFTP blocks are sized to fit one). */
  mtu: number;
}

/**
 * Finds `name` and the IPv4 address to serve from: `address` when given (it must be on the
 * interface), else the interface's first IPv4 address. Errors tell the operator what to fix.
 */
export function resolveDeploymentLan(name: string, address: string | null): DeploymentLan {
  const entries = (networkInterfaces()[name] ?? []).filter((e) => e.family === 'IPv4');
  if (entries.length === 0) {
    if (!existsSync(`/sys/class/net/${name}`)) {
      const known = Object.keys(networkInterfaces()).join(', ');
      throw new NetbootError(
        'NETBOOT_INTERFACE_UNKNOWN',
        `Network interface ${name} does not exist (known: ${known}); set netboot.interface to the deployment-LAN interface`,
        {
          interface: name,
        },
      );
    }
    throw new NetbootError(
      'NETBOOT_INTERFACE_NO_ADDRESS',
      `Network interface ${name} has no IPv4 address or is down; give it a static address first, e.g. "ip addr add 192.168.151.1/24 dev ${name} && ip link set ${name} up"`,
      { interface: name },
    );
  }
  const chosen = address === null ? entries[0]! : entries.find((e) => e.address === address);
  if (!chosen) {
    throw new NetbootError(
      'NETBOOT_ADDRESS_NOT_ON_INTERFACE',
      `netboot.address ${address} is not an address of ${name} (it has ${entries.map((e) => e.cidr).join(', ')}); correct netboot.address or leave it unset`,
      { interface: name, address },
    );
  }
  const prefixLength = Number(chosen.cidr?.split('/')[1] ?? 24);
  return {
    interface: name,
    address: chosen.address,
    mac: hardwareAddress(name, chosen.mac),
    mtu: mtuOf(name),
    ...subnetOf(chosen.address, prefixLength),
  };
}

function hardwareAddress(name: string, fromOs: string): string {
  if (fromOs && fromOs !== '00:00:00:00:00:00') return fromOs;
  try {
    return readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim();
  } catch {
    return fromOs;
  }
}

/** The interface's MTU from sysfs; Ethernet's 1500 when it cannot be read. */
function mtuOf(name: string): number {
  try {
    const mtu = Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8'));
    return Number.isInteger(mtu) && mtu >= 576 ? mtu : 1500;
  } catch {
    return 1500;
  }
}
