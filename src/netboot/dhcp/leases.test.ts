import { describe, expect, it } from 'vitest';
import { chooseAddress, judgeRequest, type Lease, type Pool } from './leases.js';

const NOW = '2026-11-22T08:00:00.000Z';
const LATER = '2026-11-22T20:00:00.000Z';
const EARLIER = '2026-11-22T07:00:00.000Z';

const pool: Pool = {
  start: '198.18.0.10',
  end: '198.18.0.13',
  serverAddress: '198.18.0.11',
  reservations: new Map([['2c:cf:67:00:00:99', '198.18.0.50']]),
};
const A = { key: '2c:cf:67:00:00:01', mac: '2c:cf:67:00:00:01' };
const B = { key: '2c:cf:67:00:00:02', mac: '2c:cf:67:00:00:02' };
const R = { key: '2c:cf:67:00:00:99', mac: '2c:cf:67:00:00:99' };

const lease = (
  ip: string,
  who: { key: string; mac: string },
  state: Lease['state'],
  expiresAt = LATER,
  updatedAt = EARLIER,
): Lease => ({
  ip,
  clientKey: who.key,
  mac: who.mac,
  state,
  expiresAt,
  serial8: null,
  hostname: null,
  updatedAt,
});

const table = (leases: Lease[]) => new Map(leases.map((l) => [l.ip, l]));

describe('chooseAddress', () => {
  it.each<[string, Lease[], typeof A, string | undefined, string | undefined]>([
    ['first free address, skipping the server', [lease('198.18.0.10', B, 'bound')], A, undefined, '198.18.0.12'],
    ['the client’s current binding', [lease('198.18.0.13', A, 'bound')], A, undefined, '198.18.0.13'],
    ['the requested address when free', [], A, '198.18.0.13', '198.18.0.13'],
    [
      'not a requested address someone else holds',
      [lease('198.18.0.13', B, 'offered')],
      A,
      '198.18.0.13',
      '198.18.0.10',
    ],
    ['not a requested address outside the range', [], A, '198.18.0.99', '198.18.0.10'],
    [
      'the client’s previous, expired address',
      [lease('198.18.0.13', A, 'bound', EARLIER)],
      A,
      undefined,
      '198.18.0.13',
    ],
    ['the client’s released address', [lease('198.18.0.12', A, 'released', NOW)], A, undefined, '198.18.0.12'],
    [
      'never-used addresses before others’ expired ones',
      [lease('198.18.0.10', B, 'bound', EARLIER)],
      A,
      undefined,
      '198.18.0.12',
    ],
    [
      'another client’s expired address when nothing else is left',
      [
        lease('198.18.0.10', B, 'bound', EARLIER),
        lease('198.18.0.12', B, 'bound'),
        lease('198.18.0.13', { key: 'x', mac: 'x' }, 'bound'),
      ],
      A,
      undefined,
      '198.18.0.10',
    ],
    [
      'nothing when every address is held',
      [lease('198.18.0.10', B, 'bound'), lease('198.18.0.12', B, 'offered'), lease('198.18.0.13', B, 'declined')],
      A,
      undefined,
      undefined,
    ],
    [
      'not a declined address, even for the client that declined it',
      [lease('198.18.0.10', A, 'declined')],
      A,
      undefined,
      '198.18.0.12',
    ],
    [
      'a declined address once its quarantine ended',
      [
        lease('198.18.0.10', B, 'declined', EARLIER),
        lease('198.18.0.12', B, 'bound'),
        lease('198.18.0.13', B, 'bound'),
      ],
      A,
      undefined,
      '198.18.0.10',
    ],
    ['the reservation, outside the range', [], R, '198.18.0.10', '198.18.0.50'],
    ['not another MAC’s reservation', [], A, '198.18.0.50', '198.18.0.10'],
  ])('offers %s', (_case, leases, client, requested, want) => {
    expect(chooseAddress(pool, table(leases), client, requested, NOW)).toBe(want);
  });
});

describe('judgeRequest', () => {
  it.each<[string, Lease[], typeof A, string, string]>([
    ['its offer', [lease('198.18.0.10', A, 'offered')], A, '198.18.0.10', 'ack'],
    ['its binding after a restart (INIT-REBOOT)', [lease('198.18.0.10', A, 'bound')], A, '198.18.0.10', 'ack'],
    ['its expired binding nobody took', [lease('198.18.0.10', A, 'bound', EARLIER)], A, '198.18.0.10', 'ack'],
    ['another client’s lease', [lease('198.18.0.10', B, 'bound')], A, '198.18.0.10', 'nak'],
    ['an address outside the range', [], A, '198.18.0.200', 'nak'],
    ['the server’s own address', [], A, '198.18.0.11', 'nak'],
    ['a declined address', [lease('198.18.0.10', A, 'declined')], A, '198.18.0.10', 'nak'],
    ['a free address it never had (a client of another server)', [], A, '198.18.0.12', 'unknown'],
    ['its reservation', [], R, '198.18.0.50', 'ack'],
    ['another MAC’s reservation', [], A, '198.18.0.50', 'nak'],
  ])('for %s → %s', (_case, leases, client, ip, want) => {
    expect(judgeRequest(pool, table(leases), client, ip, NOW)).toBe(want);
  });
});
