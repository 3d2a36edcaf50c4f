import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetLab } from '../helpers/netns.js';

/**
 * The interface-bound socket helper (src/netboot/dhcp/socket.ts and its native addon), run inside
 * a namespace: the typed errors an operator sees, and exclusive vs shared ports. Answering on one
 * interface only is proven end to end in dhcp-interface.test.ts.
 */

const SOCKET_TS = fileURLToPath(new URL('../../src/netboot/dhcp/socket.ts', import.meta.url));
let lab: NetLab;
let ns: string;

/**
 * Opens sockets in the namespace and reports each outcome as an error code or "ok"; `unprivileged`
 * drops every capability (still uid 0, so the checkout stays readable wherever it was cloned).
 */
function attempt(opens: { interface: string; port: number; shared: boolean }[], unprivileged = false): string[] {
  const script = `
    const { openDeviceSocket } = await import(${JSON.stringify(SOCKET_TS)});
    const out = [];
    for (const o of ${JSON.stringify(opens)}) {
      try { await openDeviceSocket(o); out.push('ok'); } catch (e) { out.push(e.code + ': ' + e.message); }
    }
    console.log(JSON.stringify(out));
    process.exit(0);`;
  const drop = unprivileged ? ['setpriv', '--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', '--'] : [];
  const r = lab.exec(ns, [...drop, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[];
}

beforeAll(() => {
  lab = NetLab.create();
  ns = lab.namespace('sock');
  const peer = lab.namespace('peer');
  lab.link(ns, 'lan0', '198.18.0.1/24', peer, 'eth0', null);
  lab.link(ns, 'lan1', '198.18.1.1/24', peer, 'eth1', null);
});
afterAll(() => lab?.destroy());

describe('openDeviceSocket', () => {
  it('binds the server port once per interface, and on two interfaces independently', () => {
    const r = attempt([
      { interface: 'lan0', port: 67, shared: false },
      { interface: 'lan0', port: 67, shared: false },
      { interface: 'lan1', port: 67, shared: false },
    ]);
    expect(r[0]).toBe('ok');
    expect(r[1]).toMatch(
      /^DHCP_PORT_IN_USE: Cannot open UDP port 67 on lan0: another program already serves DHCP there/,
    );
    expect(r[2]).toBe('ok');
  });

  it('shares the client port with other programs', () => {
    expect(
      attempt([
        { interface: 'lan0', port: 68, shared: true },
        { interface: 'lan0', port: 68, shared: true },
      ]),
    ).toEqual(['ok', 'ok']);
  });

  it('names an interface that does not exist', () => {
    expect(attempt([{ interface: 'nope0', port: 67, shared: false }])[0]).toMatch(
      /^NETBOOT_INTERFACE_UNKNOWN: Network interface nope0 does not exist/,
    );
  });

  it('refuses an interface name longer than the kernel allows', () => {
    expect(attempt([{ interface: 'a-very-long-name0', port: 67, shared: false }])[0]).toMatch(
      /^DHCP_SOCKET_FAILED: .*1-15 characters/,
    );
  });

  it('tells a process without the network capabilities which one it lacks', () => {
    expect(attempt([{ interface: 'lan0', port: 67, shared: false }], true)[0]).toMatch(
      /^DHCP_PERMISSION_DENIED: .*the capability CAP_NET_BIND_SERVICE is missing/,
    );
  });
});
