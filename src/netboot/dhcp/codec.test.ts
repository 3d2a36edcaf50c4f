import { describe, expect, it } from 'vitest';
import { BOOTREPLY, decodeDhcp, DhcpDecodeError, encodeDhcp, type DhcpMessage } from './codec.js';
import { OPTION } from './options.js';

/**
 * A Pi 5 bootloader DISCOVER, written out byte by byte from docs/pi5-netboot.md §1.1: no
 * broadcast flag, PRL of 14 items, vendor class, option 93 = 0, option 94 = 01 02 01, option 97
 * with "RPi5" little-endian, no option 61. MAC 2c:cf:67:a7:ed:89, serial 0x9ffefdef.
 */
const PI5_DISCOVER_HEX = [
  '01 01 06 00', // op BOOTREQUEST, htype Ethernet, hlen 6, hops 0
  '26 f3 0b 15', // xid
  '00 00 00 00', // secs, flags (broadcast bit clear)
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00', // ciaddr yiaddr siaddr giaddr
  '2c cf 67 a7 ed 89' + ' 00'.repeat(10), // chaddr
  ' 00'.repeat(64), // sname
  ' 00'.repeat(128), // file
  '63 82 53 63', // magic cookie
  '35 01 01', // 53 DISCOVER
  '37 0e 01 03 2b 3c 42 43 80 81 82 83 84 85 86 87', // 55 PRL: 1 3 43 60 66 67 128-135
  '3c 20 ' + Buffer.from('PXEClient:Arch:00000:UNDI:002001').toString('hex'), // 60
  '5d 02 00 00', // 93 arch 0
  '5e 03 01 02 01', // 94 UNDI 2.1
  '61 11 00 52 50 69 35 17 41 d0 00 a7 ed 89 00 ef fd fe 9f', // 97: type 0, "RPi5", rev 0x00d04117, MAC tail, serial LE
  'ff',
].join(' ');

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('decodeDhcp', () => {
  it('reads a Pi 5 bootloader DISCOVER field by field', () => {
    const m = decodeDhcp(hex(PI5_DISCOVER_HEX));
    expect(m).toMatchObject({
      op: 1,
      htype: 1,
      hlen: 6,
      hops: 0,
      xid: 0x26f30b15,
      secs: 0,
      flags: 0,
      ciaddr: '0.0.0.0',
      giaddr: '0.0.0.0',
      sname: '',
      file: '',
    });
    expect(m.chaddr.toString('hex')).toBe('2ccf67a7ed89');
    expect([...m.options.keys()]).toEqual([53, 55, 60, 93, 94, 97]);
    expect([...m.options.get(OPTION.PARAMETER_LIST)!]).toEqual([
      1, 3, 43, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135,
    ]);
    expect(m.options.get(OPTION.VENDOR_CLASS)!.toString()).toBe('PXEClient:Arch:00000:UNDI:002001');
    expect(m.options.get(OPTION.CLIENT_ARCH)!.toString('hex')).toBe('0000');
    expect(m.options.get(OPTION.CLIENT_UUID)!.length).toBe(17);
  });

  it('round-trips the DISCOVER to the same bytes (up to the padding to 300 bytes)', () => {
    const bytes = hex(PI5_DISCOVER_HEX);
    const again = encodeDhcp(decodeDhcp(bytes));
    expect(again.subarray(0, bytes.length)).toEqual(bytes);
    expect(again.length).toBe(Math.max(300, bytes.length));
    expect(again.subarray(bytes.length).every((b) => b === 0)).toBe(true);
  });

  it('skips pad options, stops at end and ignores bytes after it', () => {
    const m = decodeDhcp(Buffer.concat([header(), hex('00 00 35 01 03 00 ff 35 01 07')]));
    expect([...m.options]).toEqual([[53, Buffer.from([3])]]);
  });

  it('accepts options that run to the end of the packet without an end option', () => {
    expect(decodeDhcp(Buffer.concat([header(), hex('35 01 01')])).options.get(53)).toEqual(Buffer.from([1]));
  });

  it('joins an option split into several instances (RFC 3396)', () => {
    const m = decodeDhcp(Buffer.concat([header(), hex('0c 02 61 62 35 01 01 0c 01 63 ff')]));
    expect(m.options.get(OPTION.HOSTNAME)!.toString()).toBe('abc');
  });

  it.each([
    ['file (52 = 1)', 1, true, false],
    ['sname (52 = 2)', 2, false, true],
    ['both (52 = 3)', 3, true, true],
  ])('reads overloaded options from %s, after the options field', (_case, overload, inFile, inSname) => {
    const buf = Buffer.concat([header(), hex(`35 01 01 34 01 0${overload} ff`)]);
    if (inFile) hex('42 03 61 62 63 ff').copy(buf, 108);
    if (inSname) hex('0c 02 78 79 ff').copy(buf, 44);
    const m = decodeDhcp(buf);
    expect(m.options.get(OPTION.TFTP_SERVER_NAME)?.toString()).toBe(inFile ? 'abc' : undefined);
    expect(m.options.get(OPTION.HOSTNAME)?.toString()).toBe(inSname ? 'xy' : undefined);
    expect(m.file).toBe('');
    expect(m.sname).toBe('');
  });

  it.each([
    ['an empty packet', Buffer.alloc(0), 'DHCP_PACKET_TRUNCATED'],
    ['a header cut before the cookie', hex(PI5_DISCOVER_HEX).subarray(0, 239), 'DHCP_PACKET_TRUNCATED'],
    ['plain BOOTP (no cookie)', Buffer.alloc(300), 'DHCP_PACKET_NOT_DHCP'],
    ['a chaddr length over 16', Buffer.concat([header(17), hex('ff')]), 'DHCP_PACKET_HLEN_INVALID'],
    ['an option without its length byte', Buffer.concat([header(), hex('35')]), 'DHCP_OPTION_TRUNCATED'],
    ['an option longer than the packet', Buffer.concat([header(), hex('3c 20 50 58')]), 'DHCP_OPTION_TRUNCATED'],
    ['an overload value of 4', Buffer.concat([header(), hex('34 01 04 ff')]), 'DHCP_OPTION_INVALID'],
    ['an overloaded file field that overflows', overflowInFile(), 'DHCP_OPTION_TRUNCATED'],
  ])('refuses %s with %s', (_case, buf, code) => {
    expect(() => decodeDhcp(buf)).toThrow(DhcpDecodeError);
    try {
      decodeDhcp(buf);
    } catch (e) {
      expect((e as DhcpDecodeError).code).toBe(code);
    }
  });

  it('never throws anything but DhcpDecodeError on any truncation of a real packet', () => {
    const bytes = hex(PI5_DISCOVER_HEX);
    for (let n = 0; n <= bytes.length; n++) {
      try {
        decodeDhcp(bytes.subarray(0, n));
      } catch (e) {
        expect(e).toBeInstanceOf(DhcpDecodeError);
      }
    }
  });
});

describe('encodeDhcp', () => {
  it('writes every header field at its RFC 2131 offset and option 53 first', () => {
    const buf = encodeDhcp(
      reply(
        new Map([
          [OPTION.SERVER_ID, hex('c6 12 00 01')],
          [OPTION.MESSAGE_TYPE, Buffer.from([2])],
        ]),
      ),
    );
    expect(buf.subarray(0, 12).toString('hex')).toBe('020106002' + '6f30b15' + '00008000');
    expect(buf.subarray(12, 28).toString('hex')).toBe('00000000' + 'c61200c8' + 'c6120001' + '00000000');
    expect(buf.subarray(28, 44).toString('hex')).toBe('2ccf67a7ed89' + '00'.repeat(10));
    expect(buf.subarray(236, 252).toString('hex')).toBe('63825363' + '350102' + '3604c6120001' + 'ff' + '0000');
    expect(buf.length).toBe(300);
  });

  it('splits a value longer than 255 bytes into instances that decode back to it', () => {
    const long = Buffer.alloc(300, 0x41);
    const buf = encodeDhcp(
      reply(
        new Map([
          [OPTION.MESSAGE_TYPE, Buffer.from([2])],
          [OPTION.MESSAGE, long],
        ]),
      ),
    );
    expect(buf.subarray(243, 245).toString('hex')).toBe('38ff');
    expect(decodeDhcp(buf).options.get(OPTION.MESSAGE)).toEqual(long);
  });

  it('spills options into file and sname with option 52 when they exceed the maximum size', () => {
    const options = new Map<number, Buffer>([[OPTION.MESSAGE_TYPE, Buffer.from([2])]]);
    for (let code = 200; code < 204; code++) options.set(code, Buffer.alloc(50, code));
    const buf = encodeDhcp(reply(options), 300);
    expect(buf.length).toBe(300);
    const back = decodeDhcp(buf);
    expect(back.options.get(OPTION.OVERLOAD)?.[0]).toBe(3);
    for (let code = 200; code < 204; code++) expect(back.options.get(code)).toEqual(Buffer.alloc(50, code));
  });

  it('refuses options that cannot fit even with overload', () => {
    const options = new Map<number, Buffer>([
      [OPTION.MESSAGE_TYPE, Buffer.from([2])],
      [OPTION.MESSAGE, Buffer.alloc(2000)],
    ]);
    expect(() => encodeDhcp(reply(options))).toThrow(RangeError);
  });
});

function header(hlen = 6): Buffer {
  const b = Buffer.alloc(240);
  b[0] = 1;
  b[1] = 1;
  b[2] = hlen;
  b.writeUInt32BE(0x63825363, 236);
  return b;
}

function overflowInFile(): Buffer {
  const buf = Buffer.concat([header(), hex('35 01 01 34 01 01 ff')]);
  buf[108 + 126] = 0x0c;
  buf[108 + 127] = 0x05;
  return buf;
}

function reply(options: Map<number, Buffer>): DhcpMessage {
  return {
    op: BOOTREPLY,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0x26f30b15,
    secs: 0,
    flags: 0x8000,
    ciaddr: '0.0.0.0',
    yiaddr: '198.18.0.200',
    siaddr: '198.18.0.1',
    giaddr: '0.0.0.0',
    chaddr: hex('2c cf 67 a7 ed 89'),
    sname: '',
    file: '',
    options,
  };
}
