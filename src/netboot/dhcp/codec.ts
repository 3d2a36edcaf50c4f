import { AppError } from '../../lib/errors.js';
import { ipBytes, ipFromBytes, OPTION, type Options } from './options.js';

/**
 * BOOTP/DHCP messages (RFC 2131 §2, RFC 2132) ⇄ bytes. Pure: no sockets, no clock.
 *
 * Options are kept as raw bytes by code, in wire order. Decoding follows RFC 2131 §4.1 for
 * option overload (52: the `file` then the `sname` field carry more options) and RFC 3396 for
 * an option split into several instances (they are concatenated). Pad (0) is skipped, end (255)
 * stops a field. Anything that does not fit the packet is a `DhcpDecodeError`, never a crash.
 */

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const HTYPE_ETHERNET = 1;
/** RFC 2131 §2: the leftmost bit of `flags`. */
export const FLAG_BROADCAST = 0x8000;

const MAGIC_COOKIE = 0x63825363;
const SNAME_OFFSET = 44;
const SNAME_BYTES = 64;
const FILE_OFFSET = 108;
const FILE_BYTES = 128;
const COOKIE_OFFSET = 236;
const OPTIONS_OFFSET = 240;
/** RFC 1542 §3.3 / common practice: BOOTP messages are padded to at least 300 bytes. */
const MIN_MESSAGE_BYTES = 300;
/** RFC 2131 §2: every client accepts 576-byte IP datagrams: 548 bytes of DHCP message. */
export const DEFAULT_MAX_MESSAGE_BYTES = 576 - 20 - 8;

export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The client hardware address: `hlen` bytes (at most 16). */
  chaddr: Buffer;
  /** Server host name, up to the first NUL; empty when the field carried options. */
  sname: string;
  /** Boot file name, up to the first NUL; empty when the field carried options. */
  file: string;
  options: Options;
}

export type DhcpDecodeErrorCode =
  | 'DHCP_PACKET_TRUNCATED'
  | 'DHCP_PACKET_NOT_DHCP'
  | 'DHCP_PACKET_HLEN_INVALID'
  | 'DHCP_OPTION_TRUNCATED'
  | 'DHCP_OPTION_INVALID';

/** A packet that is not a well-formed DHCP message: counted and skipped by the server (R8). */
export class DhcpDecodeError extends AppError<DhcpDecodeErrorCode> {}

export function decodeDhcp(buf: Buffer): DhcpMessage {
  if (buf.length < OPTIONS_OFFSET) {
    throw new DhcpDecodeError(
      'DHCP_PACKET_TRUNCATED',
      `a DHCP message needs at least ${OPTIONS_OFFSET} bytes; got ${buf.length}`,
      { bytes: buf.length },
    );
  }
  if (buf.readUInt32BE(COOKIE_OFFSET) !== MAGIC_COOKIE)
    throw new DhcpDecodeError('DHCP_PACKET_NOT_DHCP', 'no DHCP magic cookie (plain BOOTP or not DHCP at all)');
  const hlen = buf[2]!;
  if (hlen > 16)
    throw new DhcpDecodeError(
      'DHCP_PACKET_HLEN_INVALID',
      `hardware address length ${hlen} exceeds the 16-byte chaddr field`,
      { hlen },
    );

  const options: Options = new Map();
  readOptions(buf, OPTIONS_OFFSET, buf.length, options);
  const overload = options.get(OPTION.OVERLOAD);
  let usesFile = false;
  let usesSname = false;
  if (overload) {
    if (overload.length !== 1 || overload[0]! < 1 || overload[0]! > 3)
      throw new DhcpDecodeError('DHCP_OPTION_INVALID', 'option 52 (overload) must be one byte 1, 2 or 3');
    usesFile = (overload[0]! & 1) !== 0;
    usesSname = (overload[0]! & 2) !== 0;
    // RFC 2131 §4.1: the options field first, then file, then sname.
    if (usesFile) readOptions(buf, FILE_OFFSET, FILE_OFFSET + FILE_BYTES, options);
    if (usesSname) readOptions(buf, SNAME_OFFSET, SNAME_OFFSET + SNAME_BYTES, options);
  }

  return {
    op: buf[0]!,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: ipFromBytes(buf, 12),
    yiaddr: ipFromBytes(buf, 16),
    siaddr: ipFromBytes(buf, 20),
    giaddr: ipFromBytes(buf, 24),
    chaddr: Buffer.from(buf.subarray(28, 28 + hlen)),
    sname: usesSname ? '' : cString(buf, SNAME_OFFSET, SNAME_BYTES),
    file: usesFile ? '' : cString(buf, FILE_OFFSET, FILE_BYTES),
    options,
  };
}

function readOptions(buf: Buffer, start: number, end: number, into: Options): void {
  let i = start;
  while (i < end) {
    const code = buf[i]!;
    if (code === OPTION.PAD) {
      i++;
      continue;
    }
    if (code === OPTION.END) return;
    if (i + 1 >= end)
      throw new DhcpDecodeError('DHCP_OPTION_TRUNCATED', `option ${code} has no length byte`, { code, offset: i });
    const len = buf[i + 1]!;
    if (i + 2 + len > end)
      throw new DhcpDecodeError(
        'DHCP_OPTION_TRUNCATED',
        `option ${code} claims ${len} bytes; ${end - i - 2} are left`,
        { code, offset: i },
      );
    const value = buf.subarray(i + 2, i + 2 + len);
    const seen = into.get(code);
    into.set(code, seen ? Buffer.concat([seen, value]) : Buffer.from(value));
    i += 2 + len;
  }
  // No end option: tolerated (some clients stop at the last option or pad to the end).
}

function cString(buf: Buffer, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? length : nul).toString('latin1');
}

/**
 * Encodes a message. Option 53 goes first; values over 255 bytes are split (RFC 3396). When the
 * options do not fit `maxBytes` (default 548, what every client accepts), the rest spills into
 * the `file` and then the `sname` field with option 52 (RFC 2131 §4.1), if they are unused.
 */
export function encodeDhcp(msg: DhcpMessage, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Buffer {
  const areas = placeOptions(optionChunks(msg.options), Math.max(maxBytes, MIN_MESSAGE_BYTES) - OPTIONS_OFFSET, msg);
  const overload = areas.reduce((bits, a) => bits | a.bit, 0);
  const optionsField = Buffer.concat([
    ...(overload ? [Buffer.from([OPTION.OVERLOAD, 1, overload])] : []),
    ...areas[0]!.chunks,
    Buffer.from([OPTION.END]),
  ]);

  const buf = Buffer.alloc(Math.max(OPTIONS_OFFSET + optionsField.length, MIN_MESSAGE_BYTES));
  buf[0] = msg.op;
  buf[1] = msg.htype;
  buf[2] = msg.hlen;
  buf[3] = msg.hops;
  buf.writeUInt32BE(msg.xid >>> 0, 4);
  buf.writeUInt16BE(msg.secs, 8);
  buf.writeUInt16BE(msg.flags, 10);
  ipBytes(msg.ciaddr).copy(buf, 12);
  ipBytes(msg.yiaddr).copy(buf, 16);
  ipBytes(msg.siaddr).copy(buf, 20);
  ipBytes(msg.giaddr).copy(buf, 24);
  msg.chaddr.copy(buf, 28, 0, Math.min(16, msg.chaddr.length));
  if (overload & 2)
    Buffer.concat([...areas.find((a) => a.bit === 2)!.chunks, Buffer.from([OPTION.END])]).copy(buf, SNAME_OFFSET);
  else Buffer.from(msg.sname, 'latin1').copy(buf, SNAME_OFFSET, 0, SNAME_BYTES - 1);
  if (overload & 1)
    Buffer.concat([...areas.find((a) => a.bit === 1)!.chunks, Buffer.from([OPTION.END])]).copy(buf, FILE_OFFSET);
  else Buffer.from(msg.file, 'latin1').copy(buf, FILE_OFFSET, 0, FILE_BYTES - 1);
  buf.writeUInt32BE(MAGIC_COOKIE, COOKIE_OFFSET);
  optionsField.copy(buf, OPTIONS_OFFSET);
  return buf;
}

interface Area {
  /** 0 for the options field, 1 for `file`, 2 for `sname` (the option 52 bits). */
  bit: number;
  room: number;
  chunks: Buffer[];
}

/** Fills the options field, then (with option 52) `file` and `sname`, keeping option order; each area ends with END. */
function placeOptions(chunks: Buffer[], optionsRoom: number, msg: DhcpMessage): Area[] {
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  if (bytes + 1 <= optionsRoom) return [{ bit: 0, room: 0, chunks }];
  const areas: Area[] = [
    { bit: 0, room: optionsRoom - 1 - 3, chunks: [] },
    ...(msg.file === '' ? [{ bit: 1, room: FILE_BYTES - 1, chunks: [] }] : []),
    ...(msg.sname === '' ? [{ bit: 2, room: SNAME_BYTES - 1, chunks: [] }] : []),
  ];
  let at = 0;
  for (const chunk of chunks) {
    while (at < areas.length && chunk.length > areas[at]!.room) at++;
    const area = areas[at];
    if (!area) throw new RangeError(`DHCP options (${bytes} bytes) do not fit in the message`);
    area.chunks.push(chunk);
    area.room -= chunk.length;
  }
  return areas.filter((a) => a.bit === 0 || a.chunks.length > 0);
}

/** Each option as code + length + value, message type first, long values split per RFC 3396. */
function optionChunks(options: Options): Buffer[] {
  const ordered = [...options].sort(
    ([a], [b]) => Number(b === OPTION.MESSAGE_TYPE) - Number(a === OPTION.MESSAGE_TYPE),
  );
  const out: Buffer[] = [];
  for (const [code, value] of ordered) {
    if (code === OPTION.PAD || code === OPTION.END || code === OPTION.OVERLOAD) continue;
    if (value.length === 0) out.push(Buffer.from([code, 0]));
    for (let at = 0; at < value.length; at += 255) {
      const part = value.subarray(at, at + 255);
      out.push(Buffer.concat([Buffer.from([code, part.length]), part]));
    }
  }
  return out;
}
