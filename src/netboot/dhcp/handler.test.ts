import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp-dir.js';
import { createLogger } from '../../lib/logger.js';
import { openSqliteStore, type Store } from '../../store/index.js';
import { subnetOf } from '../../lib/ipv4.js';
import { BOOTREQUEST, type DhcpMessage } from './codec.js';
import { createDhcpHandler, type DhcpHandler, type NetbootGate } from './handler.js';
import { listLeases } from './leases.repo.js';
import { createLeaseService, type LeaseService } from './leases.service.js';
import { createDhcpObserver } from './observer.js';
import { getIp, MESSAGE_TYPE, OPTION } from './options.js';

const SERVER = '198.18.0.1';
const OPTION97 = (serial: string) =>
  Buffer.from(
    '00' + '52506935' + '1741d000' + 'a7ed8900' + Buffer.from(serial, 'hex').reverse().toString('hex'),
    'hex',
  );

let dir: ReturnType<typeof tempDir>;
let store: Store;
let leases: LeaseService;
let events: { type: string; data: Record<string, unknown>; durable: boolean }[];
let finished: Set<string>;
let clock: Date;

beforeEach(async () => {
  dir = tempDir();
  store = await openSqliteStore({ file: join(dir.path, 'db.sqlite'), log: createLogger('silent') });
  leases = await createLeaseService({
    store,
    pool: {
      start: '198.18.0.100',
      end: '198.18.0.102',
      serverAddress: SERVER,
      reservations: new Map([['2c:cf:67:00:00:99', '198.18.0.50']]),
    },
    leaseSeconds: 600,
    declineHoldSeconds: 300,
  });
  events = [];
  finished = new Set();
  clock = new Date('2026-11-22T08:00:00Z');
});
afterEach(async () => {
  await store.close();
  dir.remove();
});

const gate: NetbootGate = async (serial8) =>
  serial8 && finished.has(serial8)
    ? { allowed: false, reason: `imaged successfully` }
    : { allowed: true, reason: 'new board' };

function handler(mode: 'full' | 'proxy'): DhcpHandler {
  const observer = createDhcpObserver(
    {
      record: async (type, data) => void events.push({ type, data, durable: true }),
      publish: (type, data) => void events.push({ type, data, durable: false }),
    },
    createLogger('silent'),
    () => clock.getTime(),
  );
  return createDhcpHandler({
    mode,
    server: { address: SERVER, netmask: '255.255.255.0', broadcast: '198.18.0.255' },
    subnet: subnetOf(SERVER, 24),
    ownMac: '02:00:00:00:00:01',
    leases: mode === 'full' ? leases : null,
    grant: { leaseSeconds: 600, router: null, dnsServers: [] },
    declineHoldSeconds: 300,
    gate,
    observer,
    clock: () => clock,
  });
}

interface Client {
  mac?: string;
  pi?: boolean;
  serial?: string;
  vendor?: boolean;
  ciaddr?: string;
  xid?: number;
}
function msg(type: number, c: Client = {}, extra: [number, Buffer][] = []): DhcpMessage {
  const pi = c.pi ?? true;
  const options = new Map<number, Buffer>([[OPTION.MESSAGE_TYPE, Buffer.from([type])]]);
  if (pi && c.vendor !== false) options.set(OPTION.VENDOR_CLASS, Buffer.from('PXEClient:Arch:00000:UNDI:002001'));
  if (pi) options.set(OPTION.CLIENT_UUID, OPTION97(c.serial ?? '9ffefdef'));
  for (const [k, v] of extra) options.set(k, v);
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: c.xid ?? 7,
    secs: 0,
    flags: 0,
    ciaddr: c.ciaddr ?? '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: Buffer.from((c.mac ?? '2c:cf:67:a7:ed:89').split(':').map((h) => parseInt(h, 16))),
    sname: '',
    file: '',
    options,
  };
}
const ip = (v: string) => Buffer.from(v.split('.').map(Number));
const requestFor = (c: Client, address: string, serverId: string | null = SERVER) =>
  msg(MESSAGE_TYPE.REQUEST, c, [
    [OPTION.REQUESTED_IP, ip(address)],
    ...(serverId ? [[OPTION.SERVER_ID, ip(serverId)] as [number, Buffer]] : []),
  ]);
const typeOf = (m: DhcpMessage | undefined) => m?.options.get(OPTION.MESSAGE_TYPE)?.[0];
const hasBoot = (m: DhcpMessage | undefined) => m?.options.has(OPTION.VENDOR_SPECIFIC) ?? false;

describe('DHCP handler, full mode', () => {
  it('offers a Pi an address with boot options, acks its REQUEST and records the lease', async () => {
    const h = handler('full');
    const [offer] = await h(msg(MESSAGE_TYPE.DISCOVER));
    expect(typeOf(offer)).toBe(MESSAGE_TYPE.OFFER);
    expect(offer).toMatchObject({ yiaddr: '198.18.0.100', siaddr: SERVER });
    expect(hasBoot(offer)).toBe(true);
    const [ack] = await h(requestFor({}, '198.18.0.100'));
    expect(typeOf(ack)).toBe(MESSAGE_TYPE.ACK);
    expect(hasBoot(ack)).toBe(true);
    expect(await listLeases(store.db)).toMatchObject([
      { ip: '198.18.0.100', state: 'bound', serial8: '9ffefdef', expiresAt: '2026-11-22T08:10:00.000Z' },
    ]);
    expect(events.filter((e) => e.durable)).toEqual([
      {
        type: 'dhcp.seen',
        durable: true,
        data: {
          mac: '2c:cf:67:a7:ed:89',
          serial8: '9ffefdef',
          model: 'pi5',
          ip: '198.18.0.100',
          mode: 'full',
          netboot: true,
          reason: 'new board',
        },
      },
    ]);
  });

  it('gives a successfully imaged board an address but no boot options', async () => {
    finished.add('9ffefdef');
    const [offer] = await handler('full')(msg(MESSAGE_TYPE.DISCOVER));
    expect(offer?.yiaddr).toBe('198.18.0.100');
    expect(hasBoot(offer)).toBe(false);
    expect(offer?.siaddr).toBe('0.0.0.0');
    expect(events.find((e) => e.type === 'dhcp.seen')?.data).toMatchObject({
      netboot: false,
      reason: 'imaged successfully',
    });
  });

  it('gives a non-Pi client an address without boot options', async () => {
    const [offer] = await handler('full')(msg(MESSAGE_TYPE.DISCOVER, { pi: false, mac: '52:54:00:00:00:01' }));
    expect(offer?.yiaddr).toBe('198.18.0.100');
    expect(hasBoot(offer)).toBe(false);
    expect(events.some((e) => e.type === 'dhcp.seen')).toBe(false);
  });

  it('keeps boot options for a Pi whose REQUEST lacks option 60 (and 97)', async () => {
    const h = handler('full');
    await h(msg(MESSAGE_TYPE.DISCOVER));
    const bare = requestFor({ pi: false }, '198.18.0.100');
    const [ack] = await h(bare);
    expect(typeOf(ack)).toBe(MESSAGE_TYPE.ACK);
    expect(hasBoot(ack)).toBe(true);
  });

  it('frees its offer when the client takes another server’s (SELECTING)', async () => {
    const h = handler('full');
    await h(msg(MESSAGE_TYPE.DISCOVER));
    expect(await h(requestFor({}, '198.18.7.7', '198.18.0.9'))).toEqual([]);
    expect(await listLeases(store.db)).toMatchObject([{ ip: '198.18.0.100', state: 'released' }]);
  });

  it.each([
    ['an address on another network', '10.9.9.9', null, MESSAGE_TYPE.NAK],
    ['another client’s address', '198.18.0.100', null, MESSAGE_TYPE.NAK],
    ['a free address it was never given (INIT-REBOOT)', '198.18.0.101', null, undefined],
    ['our server id with an address we never offered it (SELECTING)', '198.18.0.101', SERVER, MESSAGE_TYPE.NAK],
  ])('answers a REQUEST for %s with %s', async (_case, address, serverId, want) => {
    const h = handler('full');
    await h(msg(MESSAGE_TYPE.DISCOVER, { mac: '2c:cf:67:00:00:05', serial: '00000005' }));
    await h(requestFor({ mac: '2c:cf:67:00:00:05', serial: '00000005' }, '198.18.0.100'));
    const replies = await h(requestFor({ mac: '2c:cf:67:00:00:06', serial: '00000006' }, address, serverId));
    expect(typeOf(replies[0])).toBe(want);
  });

  it('renews a lease for a client that has its address (RENEWING, unicast to ciaddr)', async () => {
    const h = handler('full');
    await h(msg(MESSAGE_TYPE.DISCOVER));
    await h(requestFor({}, '198.18.0.100'));
    clock = new Date('2026-11-22T08:05:00Z');
    const [ack] = await h(msg(MESSAGE_TYPE.REQUEST, { ciaddr: '198.18.0.100' }));
    expect(ack).toMatchObject({ ciaddr: '198.18.0.100', yiaddr: '198.18.0.100' });
    expect((await listLeases(store.db))[0]?.expiresAt).toBe('2026-11-22T08:15:00.000Z');
  });

  it('quarantines a declined address and records it', async () => {
    const h = handler('full');
    await h(msg(MESSAGE_TYPE.DISCOVER));
    await h(requestFor({}, '198.18.0.100'));
    await h(
      msg(MESSAGE_TYPE.DECLINE, {}, [
        [OPTION.REQUESTED_IP, ip('198.18.0.100')],
        [OPTION.SERVER_ID, ip(SERVER)],
      ]),
    );
    expect(events.find((e) => e.type === 'dhcp.declined')).toMatchObject({
      durable: true,
      data: { ip: '198.18.0.100', holdSeconds: 300 },
    });
    const [offer] = await h(msg(MESSAGE_TYPE.DISCOVER, { xid: 8 }));
    expect(offer?.yiaddr).toBe('198.18.0.101');
  });

  it('frees a released address for the next client', async () => {
    const h = handler('full');
    await h(msg(MESSAGE_TYPE.DISCOVER, { pi: false, mac: '52:54:00:00:00:01' }));
    await h(requestFor({ pi: false, mac: '52:54:00:00:00:01' }, '198.18.0.100'));
    await h(
      msg(MESSAGE_TYPE.RELEASE, { pi: false, mac: '52:54:00:00:00:01', ciaddr: '198.18.0.100' }, [
        [OPTION.SERVER_ID, ip(SERVER)],
      ]),
    );
    expect((await listLeases(store.db))[0]?.state).toBe('released');
  });

  it('keeps only printable ASCII of a client-chosen hostname (option 12)', async () => {
    const h = handler('full');
    await h(
      msg(MESSAGE_TYPE.DISCOVER, { pi: false, mac: '52:54:00:00:00:07' }, [
        [OPTION.HOSTNAME, Buffer.from('kart\x1b[31m 7\n')],
      ]),
    );
    expect((await listLeases(store.db))[0]?.hostname).toBe('kart[31m7');
  });

  it('identifies a client by option 61 when it sends one (RFC 2132 §9.14)', async () => {
    const h = handler('full');
    const id: [number, Buffer] = [OPTION.CLIENT_ID, Buffer.from('01525400000008', 'hex')];
    const [first] = await h(msg(MESSAGE_TYPE.DISCOVER, { pi: false, mac: '52:54:00:00:00:08' }, [id]));
    const [sameClientOtherNic] = await h(msg(MESSAGE_TYPE.DISCOVER, { pi: false, mac: '52:54:00:00:00:09' }, [id]));
    const [otherClient] = await h(msg(MESSAGE_TYPE.DISCOVER, { pi: false, mac: '52:54:00:00:00:08' }));
    expect(sameClientOtherNic?.yiaddr).toBe(first?.yiaddr);
    expect(otherClient?.yiaddr).not.toBe(first?.yiaddr);
  });

  it('gives a reserved MAC its address', async () => {
    const [offer] = await handler('full')(msg(MESSAGE_TYPE.DISCOVER, { mac: '2c:cf:67:00:00:99', serial: '00000099' }));
    expect(offer?.yiaddr).toBe('198.18.0.50');
  });

  it('answers INFORM with configuration only', async () => {
    const [ack] = await handler('full')(
      msg(MESSAGE_TYPE.INFORM, { pi: false, mac: '52:54:00:00:00:01', ciaddr: '198.18.0.20' }),
    );
    expect(ack).toMatchObject({ yiaddr: '0.0.0.0', ciaddr: '198.18.0.20' });
    expect(ack?.options.has(OPTION.LEASE_TIME)).toBe(false);
  });

  it('does not answer its own probe DISCOVER', async () => {
    expect(await handler('full')(msg(MESSAGE_TYPE.DISCOVER, { pi: false, mac: '02:00:00:00:00:01' }))).toEqual([]);
  });

  it('never hands out one address twice, also to DISCOVERs that arrive at once', async () => {
    const h = handler('full');
    const macs = Array.from({ length: 10 }, (_, i) => `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`);
    const offers = (await Promise.all(macs.map((mac) => h(msg(MESSAGE_TYPE.DISCOVER, { pi: false, mac }))))).flat();
    expect(offers.map((o) => o.yiaddr).sort()).toEqual(['198.18.0.100', '198.18.0.101', '198.18.0.102']);
    expect(events.filter((e) => e.type === 'dhcp.warning')).toHaveLength(7);
  });
});

describe('DHCP handler, proxy mode', () => {
  it('answers a Pi DISCOVER with boot options and no address', async () => {
    const [offer] = await handler('proxy')(msg(MESSAGE_TYPE.DISCOVER));
    expect(offer).toMatchObject({ yiaddr: '0.0.0.0', siaddr: SERVER });
    expect(getIp(offer!.options, OPTION.SERVER_ID)).toBe(SERVER);
    expect(offer?.options.get(OPTION.CLIENT_UUID)).toEqual(OPTION97('9ffefdef'));
    expect(events.find((e) => e.type === 'dhcp.seen')?.data).toMatchObject({ ip: null, mode: 'proxy', netboot: true });
  });

  it.each([
    ['a non-Pi client', msg(MESSAGE_TYPE.DISCOVER, { pi: false, mac: '52:54:00:00:00:01' })],
    ['a Pi’s REQUEST (the site server answers it)', requestFor({}, '198.18.0.77', '198.18.0.254')],
    ['a successfully imaged Pi', msg(MESSAGE_TYPE.DISCOVER, { serial: 'f1f1f1f1' })],
  ])('stays silent for %s', async (_case, m) => {
    finished.add('f1f1f1f1');
    expect(await handler('proxy')(m)).toEqual([]);
  });
});
