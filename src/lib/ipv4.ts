/** IPv4 arithmetic on dotted quads: the DHCP range, the deployment LAN's subnet, ordering addresses. */

/** `198.18.0.1` → 3323068417; throws on anything that is not a dotted quad. */
export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255))
    throw new TypeError(`not an IPv4 address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** `24` → `255.255.255.0`. */
export function prefixToNetmask(prefixLength: number): string {
  return intToIp(prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0);
}

/** A subnet as the kernel sees it on an interface. */
export interface Subnet {
  network: string;
  prefixLength: number;
  netmask: string;
  broadcast: string;
}

export function subnetOf(address: string, prefixLength: number): Subnet {
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  const network = (ipToInt(address) & mask) >>> 0;
  return {
    network: intToIp(network),
    prefixLength,
    netmask: intToIp(mask),
    broadcast: intToIp((network | ~mask) >>> 0),
  };
}

/** True when `ip` is a host address of `subnet` (not its network or broadcast address). */
export function isHostIn(subnet: Subnet, ip: string): boolean {
  const n = ipToInt(ip);
  return n > ipToInt(subnet.network) && n < ipToInt(subnet.broadcast);
}
