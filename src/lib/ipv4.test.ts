import { describe, expect, it } from 'vitest';
import { intToIp, ipToInt, isHostIn, prefixToNetmask, subnetOf } from './ipv4.js';

describe('ipv4', () => {
  it('turns a dotted quad into its 32-bit number and back', () => {
    expect(ipToInt('198.18.0.1')).toBe(3323068417);
    expect(ipToInt('255.255.255.255')).toBe(0xffffffff);
    expect(ipToInt('0.0.0.0')).toBe(0);
    expect(intToIp(3323068417)).toBe('198.18.0.1');
    expect(intToIp(0xffffffff)).toBe('255.255.255.255');
  });

  it('orders addresses numerically, not as text', () => {
    expect(ipToInt('198.18.0.9')).toBeLessThan(ipToInt('198.18.0.10'));
    expect(ipToInt('198.18.255.255')).toBeLessThan(ipToInt('198.19.0.0'));
  });

  it.each(['198.18.0', '198.18.0.256', '198.18.0.1.2', '198.18.0.x', '', ' 198.18.0.1'])('refuses %j', (ip) => {
    expect(() => ipToInt(ip)).toThrow(/not an IPv4 address/);
  });

  it('works out a subnet and its host addresses', () => {
    expect(prefixToNetmask(24)).toBe('255.255.255.0');
    expect(prefixToNetmask(0)).toBe('0.0.0.0');
    const subnet = subnetOf('198.18.4.7', 22);
    expect(subnet).toEqual({
      network: '198.18.4.0',
      prefixLength: 22,
      netmask: '255.255.252.0',
      broadcast: '198.18.7.255',
    });
    expect(isHostIn(subnet, '198.18.5.1')).toBe(true);
    expect(isHostIn(subnet, '198.18.4.0')).toBe(false);
    expect(isHostIn(subnet, '198.18.7.255')).toBe(false);
    expect(isHostIn(subnet, '198.18.8.1')).toBe(false);
  });
});
