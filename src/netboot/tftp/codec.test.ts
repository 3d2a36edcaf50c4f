import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodePacket,
  decodeShortPacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRequest,
  toNetascii,
  type TftpPacket,
} from './codec.js';
import { TftpError } from './errors.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (s: string) => Buffer.from(s, 'latin1').toString('hex');

describe('TFTP codec: encoding, byte for byte', () => {
  it.each<[string, Buffer, string]>([
    // What a Pi 5 EEPROM sends for its first probe of a file (docs/pi5-netboot.md §2.3).
    [
      'RRQ as the Pi 5 sends it',
      encodeRequest('RRQ', '9ffefdef/config.txt', 'octet', [
        ['tsize', '0'],
        ['blksize', '1468'],
      ]),
      `0001 ${text('9ffefdef/config.txt')}00 ${text('octet')}00 ${text('tsize')}00 30 00 ${text('blksize')}00 ${text('1468')}00`,
    ],
    ['RRQ without options', encodeRequest('RRQ', 'a', 'netascii'), `0001 6100 ${text('netascii')}00`],
    ['WRQ', encodeRequest('WRQ', 'x', 'octet'), `0002 7800 ${text('octet')}00`],
    [
      'OACK with two options',
      encodeOack([
        ['blksize', '1468'],
        ['tsize', '1234'],
      ]),
      `0006 ${text('blksize')}00 ${text('1468')}00 ${text('tsize')}00 ${text('1234')}00`,
    ],
    ['OACK with no options', encodeOack([]), '0006'],
    ['DATA, block 1', encodeData(1, Buffer.alloc(0)), '0003 0001'],
    ['DATA wraps at 65536', encodeData(65536, Buffer.alloc(0)), '0003 0000'],
    ['DATA, block 65535', encodeData(65535, Buffer.alloc(0)), '0003 ffff'],
    ['DATA with payload', encodeData(7, Buffer.from([0xde, 0xad])), '0003 0007 dead'],
    ['empty DATA (file length a multiple of blksize)', encodeData(2, Buffer.alloc(0)), '0003 0002'],
    ['ACK 0', encodeAck(0), '0004 0000'],
    ['ACK wraps', encodeAck(65537), '0004 0001'],
    ['ERROR 1', encodeError(1, 'File not found'), `0005 0001 ${text('File not found')}00`],
    ['ERROR with empty message', encodeError(0, ''), '0005 0000 00'],
  ])('%s', (_case, got, want) => expect(got.toString('hex')).toBe(hex(want).toString('hex')));
});

describe('TFTP codec: decoding', () => {
  it.each<[string, string, TftpPacket]>([
    [
      'Pi 5 RRQ',
      `0001 ${text('config.txt')}00 ${text('octet')}00 ${text('tsize')}00 3000 ${text('blksize')}00 ${text('1468')}00`,
      {
        op: 'RRQ',
        filename: 'config.txt',
        mode: 'octet',
        options: [
          ['tsize', '0'],
          ['blksize', '1468'],
        ],
      },
    ],
    [
      'mode and option names are case-insensitive',
      `0001 6100 ${text('OCTET')}00 ${text('BlkSize')}00 ${text('512')}00`,
      { op: 'RRQ', filename: 'a', mode: 'octet', options: [['blksize', '512']] },
    ],
    [
      'padding NULs after the options are ignored',
      `0001 6100 ${text('octet')}00 ${text('tsize')}00 3000 0000`,
      { op: 'RRQ', filename: 'a', mode: 'octet', options: [['tsize', '0']] },
    ],
    [
      'the file name keeps every byte (latin1)',
      `0001 ff2e2e00 ${text('octet')}00`,
      { op: 'RRQ', filename: '\u00ff..', mode: 'octet', options: [] },
    ],
    ['WRQ', `0002 6100 ${text('octet')}00`, { op: 'WRQ', filename: 'a', mode: 'octet', options: [] }],
    ['ACK', '0004 1234', { op: 'ACK', block: 0x1234 }],
    [
      'the Pi 5 "Early terminate" error',
      `0005 0000 ${text('Early terminate')}00`,
      { op: 'ERROR', code: 0, message: 'Early terminate' },
    ],
    ['ERROR without its terminator', `0005 0008 ${text('no')}`, { op: 'ERROR', code: 8, message: 'no' }],
    ['ERROR without a message', '0005 0003', { op: 'ERROR', code: 3, message: '' }],
    ['OACK', `0006 ${text('blksize')}00 ${text('1468')}00`, { op: 'OACK', options: [['blksize', '1468']] }],
  ])('%s', (_case, bytes, want) => expect(decodePacket(hex(bytes))).toEqual(want));

  it('decodes DATA with its payload', () => {
    const got = decodePacket(hex('0003 ffff 0102'));
    expect(got).toMatchObject({ op: 'DATA', block: 0xffff });
    expect(got.op === 'DATA' && [...got.data]).toEqual([1, 2]);
  });

  it.each<[string, string, string]>([
    ['empty datagram', '', 'shorter than 4 bytes'],
    ['three bytes', '000461', 'shorter than 4 bytes'],
    ['unknown opcode', '0009 0000', 'unknown opcode'],
    ['opcode 0', '0000 0000', 'unknown opcode'],
    ['RRQ without a mode', `0001 ${text('abc')}00`, 'a request needs a file name and a mode'],
    ['RRQ with an empty name', `0001 00 ${text('octet')}00`, 'the file name is empty'],
    ['RRQ whose mode is not terminated', `0001 6100 ${text('octet')}`, 'a string is not NUL-terminated'],
    ['RRQ with an option but no value', `0001 6100 ${text('octet')}00 ${text('blksize')}00`, 'an option has no value'],
    ['RRQ with an empty option name', `0001 6100 ${text('octet')}00 00 ${text('5')}00`, 'an option has an empty name'],
    ['ACK with trailing bytes', '0004 0001 00', 'an ACK is exactly 4 bytes'],
  ])('refuses %s', (_case, bytes, reason) => {
    const err = (() => {
      try {
        decodePacket(hex(bytes));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TftpError);
    expect(err).toMatchObject({ code: 'NETBOOT_TFTP_PACKET_INVALID', details: { reason } });
  });

  it('round-trips what it encodes', () => {
    const packets: Buffer[] = [
      encodeRequest('RRQ', 'overlays/bcm2712d0.dtbo', 'octet', [
        ['blksize', '1468'],
        ['windowsize', '16'],
      ]),
      encodeOack([['tsize', '99']]),
      encodeAck(65535),
      encodeError(2, 'Access violation'),
      encodeData(3, randomBytes(1468)),
    ];
    for (const p of packets) {
      const decoded = decodePacket(p);
      const again =
        decoded.op === 'RRQ' || decoded.op === 'WRQ'
          ? encodeRequest(decoded.op, decoded.filename, decoded.mode, decoded.options)
          : decoded.op === 'OACK'
            ? encodeOack(decoded.options)
            : decoded.op === 'ACK'
              ? encodeAck(decoded.block)
              : decoded.op === 'ERROR'
                ? encodeError(decoded.code, decoded.message)
                : decoded.op === 'DATA'
                  ? encodeData(decoded.block, decoded.data)
                  : Buffer.alloc(0);
      expect(again.equals(p)).toBe(true);
    }
  });
});

describe('TFTP codec: fuzz', () => {
  // Random and truncated datagrams either decode or throw the codec's own error; nothing else.
  const valid = [
    encodeRequest('RRQ', '9ffefdef/kernel_2712.img', 'octet', [
      ['tsize', '0'],
      ['blksize', '1468'],
    ]),
    encodeOack([
      ['blksize', '1468'],
      ['tsize', '123456'],
    ]),
    encodeError(0, 'Early terminate'),
    encodeAck(17),
    encodeData(1, randomBytes(64)),
  ];
  const check = (buf: Buffer) => {
    try {
      decodePacket(buf);
    } catch (e) {
      if (!(e instanceof TftpError)) throw e;
    }
  };

  it('survives every truncation of valid packets', () => {
    for (const p of valid) for (let n = 0; n <= p.length; n++) check(p.subarray(0, n));
  });

  it('survives 20000 random datagrams and random byte flips', () => {
    for (let i = 0; i < 10_000; i++) check(randomBytes(Math.floor(Math.random() * 80)));
    for (let i = 0; i < 10_000; i++) {
      const p = Buffer.from(valid[i % valid.length]!);
      p[Math.floor(Math.random() * p.length)] = Math.floor(Math.random() * 256);
      check(p);
    }
  });
});

describe('TFTP codec: a 4-byte datagram as a number (how the transfer socket hands ACKs over)', () => {
  it('decodes every 4-byte datagram exactly as decodePacket does the same bytes', () => {
    const words = [
      encodeAck(0),
      encodeAck(17),
      encodeAck(65535),
      encodeData(9, Buffer.alloc(0)),
      Buffer.from([0, 5, 0, 1]),
      Buffer.from([0, 9, 0, 0]),
      Buffer.from([255, 255, 255, 255]),
    ];
    for (let i = 0; i < 2000; i++) words.push(randomBytes(4));
    const outcome = (f: () => TftpPacket) => {
      try {
        return f();
      } catch (e) {
        if (!(e instanceof TftpError)) throw e;
        return e.code;
      }
    };
    for (const w of words)
      expect(outcome(() => decodeShortPacket(w.readUInt32BE(0)))).toEqual(outcome(() => decodePacket(w)));
    expect(decodeShortPacket(0x0004_1234)).toEqual({ op: 'ACK', block: 0x1234 });
  });
});

describe('netascii', () => {
  it.each([
    ['no line ends', '616263', '616263'],
    ['LF becomes CR LF', '610a62', '610d0a62'],
    ['a bare CR becomes CR NUL', '610d62', '610d0062'],
    ['CR LF becomes CR NUL CR LF', '0d0a', '0d000d0a'],
  ])('%s', (_case, input, want) => expect(toNetascii(Buffer.from(input, 'hex')).toString('hex')).toBe(want));
});
