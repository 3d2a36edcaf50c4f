import { describe, expect, it } from 'vitest';
import { BOOTREQUEST, decodeDhcp, encodeDhcp, FLAG_BROADCAST, type DhcpMessage } from './codec.js';
import { MESSAGE_TYPE, OPTION } from './options.js';
import { buildReply, replyDestination, type ServerInfo } from './reply.js';

const server: ServerInfo = { address: '198.18.0.1', netmask: '255.255.255.0', broadcast: '198.18.0.255' };
const OPTION97 = Buffer.from('00' + '52506935' + '1741d000' + 'a7ed8900' + 'effdfe9f', 'hex');
const grant = { yiaddr: '198.18.0.100', leaseSeconds: 43_200, router: null, dnsServers: [] };

function request(o: Partial<DhcpMessage> = {}): DhcpMessage {
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0x26f30b15,
    secs: 3,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: Buffer.from('2ccf67a7ed89', 'hex'),
    sname: '',
    file: '',
    options: new Map([
      [OPTION.MESSAGE_TYPE, Buffer.from([1])],
      [OPTION.CLIENT_UUID, OPTION97],
    ]),
    ...o,
  };
}

const optionsHex = (m: DhcpMessage) =>
  Object.fromEntries([...decodeDhcp(encodeDhcp(m)).options].map(([k, v]) => [k, v.toString('hex')]));

describe('buildReply', () => {
  it('gives a Pi in full mode its address and every boot option, byte for byte', () => {
    const offer = buildReply(request(), { type: MESSAGE_TYPE.OFFER, grant, boot: { option97: OPTION97 } }, server);
    expect(offer).toMatchObject({
      op: 2,
      xid: 0x26f30b15,
      secs: 0,
      flags: 0,
      ciaddr: '0.0.0.0',
      yiaddr: '198.18.0.100',
      siaddr: '198.18.0.1',
      giaddr: '0.0.0.0',
    });
    expect(optionsHex(offer)).toEqual({
      53: '02',
      54: 'c6120001',
      51: '0000a8c0',
      58: '00005460',
      59: '000093a8',
      1: 'ffffff00',
      60: Buffer.from('PXEClient').toString('hex'),
      43: '0601030a04005058450914000011' + Buffer.from('Raspberry Pi Boot').toString('hex') + 'ff',
      66: Buffer.from('198.18.0.1').toString('hex'),
      97: OPTION97.toString('hex'),
    });
  });

  it('gives a Pi in proxy mode boot options and no address, like dnsmasq’s proxy OFFER', () => {
    const offer = buildReply(
      request(),
      { type: MESSAGE_TYPE.OFFER, grant: null, boot: { option97: OPTION97 } },
      server,
    );
    expect(offer).toMatchObject({ yiaddr: '0.0.0.0', siaddr: '198.18.0.1' });
    expect(
      Object.keys(optionsHex(offer))
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([43, 53, 54, 60, 66, 97]);
  });

  it('gives a client without boot options an address only (no siaddr, no 43/60/66)', () => {
    const offer = buildReply(
      request(),
      {
        type: MESSAGE_TYPE.OFFER,
        grant: { ...grant, router: '198.18.0.254', dnsServers: ['198.18.0.2', '198.18.0.3'] },
        boot: null,
      },
      server,
    );
    expect(offer.siaddr).toBe('0.0.0.0');
    const o = optionsHex(offer);
    expect(o[3]).toBe('c61200fe');
    expect(o[6]).toBe('c6120002c6120003');
    expect([43, 60, 66, 97].filter((k) => k in o)).toEqual([]);
  });

  it('sends a NAK with no address, no boot options and its reason', () => {
    const nak = buildReply(
      request({ ciaddr: '198.18.0.9' }),
      { type: MESSAGE_TYPE.NAK, grant, boot: { option97: null }, message: 'no' },
      server,
    );
    expect(nak).toMatchObject({ yiaddr: '0.0.0.0', siaddr: '0.0.0.0', ciaddr: '0.0.0.0' });
    expect(
      Object.keys(optionsHex(nak))
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([53, 54, 56]);
  });

  it('answers an INFORM with configuration but no address or lease time (RFC 2131 §4.3.5)', () => {
    const ack = buildReply(
      request({ ciaddr: '198.18.0.9' }),
      { type: MESSAGE_TYPE.ACK, grant: { ...grant, yiaddr: '198.18.0.9' }, boot: null, inform: true },
      server,
    );
    expect(ack).toMatchObject({ yiaddr: '0.0.0.0', ciaddr: '198.18.0.9' });
    expect(optionsHex(ack)[51]).toBeUndefined();
    expect(optionsHex(ack)[1]).toBe('ffffff00');
  });

  it('asks a relay to broadcast a NAK', () => {
    const nak = buildReply(
      request({ giaddr: '198.18.5.1' }),
      { type: MESSAGE_TYPE.NAK, grant: null, boot: null },
      server,
    );
    expect(nak.flags & FLAG_BROADCAST).toBe(FLAG_BROADCAST);
    expect(nak.giaddr).toBe('198.18.5.1');
  });
});

describe('replyDestination (RFC 2131 §4.1)', () => {
  it.each<[string, Partial<DhcpMessage>, number, string, number]>([
    ['a Pi without address or broadcast flag → subnet broadcast', {}, MESSAGE_TYPE.OFFER, '198.18.0.255', 68],
    ['broadcast flag set → subnet broadcast', { flags: FLAG_BROADCAST }, MESSAGE_TYPE.OFFER, '198.18.0.255', 68],
    [
      'through a relay → the relay, server port',
      { giaddr: '198.18.5.1', ciaddr: '198.18.5.9' },
      MESSAGE_TYPE.ACK,
      '198.18.5.1',
      67,
    ],
    ['a NAK through a relay → the relay', { giaddr: '198.18.5.1' }, MESSAGE_TYPE.NAK, '198.18.5.1', 67],
    ['renewing (ciaddr set) → unicast to ciaddr', { ciaddr: '198.18.0.100' }, MESSAGE_TYPE.ACK, '198.18.0.100', 68],
    ['a NAK to a renewing client → broadcast', { ciaddr: '198.18.0.100' }, MESSAGE_TYPE.NAK, '198.18.0.255', 68],
  ])('%s', (_case, req, type, address, port) => {
    const r = request(req);
    const reply = buildReply(r, { type: type as 2, grant: null, boot: null }, server);
    expect(replyDestination(r, reply, server)).toEqual({ address, port });
  });

  it('uses 255.255.255.255 when the server is configured for limited broadcast', () => {
    const limited = { ...server, broadcast: '255.255.255.255' };
    const r = request();
    expect(
      replyDestination(r, buildReply(r, { type: MESSAGE_TYPE.OFFER, grant, boot: null }, limited), limited).address,
    ).toBe('255.255.255.255');
  });
});
