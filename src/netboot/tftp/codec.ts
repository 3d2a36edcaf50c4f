import { TftpError } from './errors.js';

/**
 * TFTP packets ⇄ bytes: RFC 1350 (RRQ, WRQ, DATA, ACK, ERROR) and RFC 2347 (options, OACK).
 * Pure; no sockets. Strings are NUL-terminated 8-bit text, decoded as latin1 so that every byte
 * maps to one character and nothing is lost or replaced before the path checks see it.
 */

export const OPCODE = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** An option name (lower-cased, RFC 2347 says names are case-insensitive) and its value. */
export type TftpOption = readonly [name: string, value: string];

export type TftpPacket =
  | { op: 'RRQ' | 'WRQ'; filename: string; mode: string; options: TftpOption[] }
  | { op: 'DATA'; block: number; data: Buffer }
  | { op: 'ACK'; block: number }
  | { op: 'ERROR'; code: number; message: string }
  | { op: 'OACK'; options: TftpOption[] };

/** Largest block RFC 2348 allows (65464 + 4-byte header + IP/UDP headers = 65535 + 8). */
export const TFTP_MAX_BLKSIZE = 65464;

function invalid(reason: string, details: Record<string, unknown> = {}): TftpError {
  return new TftpError('NETBOOT_TFTP_PACKET_INVALID', `Not a valid TFTP packet: ${reason}`, { reason, ...details });
}

/** Splits `buf[from..]` into NUL-terminated strings; `strict` refuses an unterminated tail. */
function strings(buf: Buffer, from: number, strict: boolean): string[] {
  const out: string[] = [];
  let start = from;
  while (start < buf.length) {
    const end = buf.indexOf(0, start);
    if (end === -1) {
      if (strict) throw invalid('a string is not NUL-terminated');
      out.push(buf.toString('latin1', start));
      break;
    }
    out.push(buf.toString('latin1', start, end));
    start = end + 1;
  }
  return out;
}

function options(parts: string[]): TftpOption[] {
  // Some PXE ROMs pad requests with extra NULs: empty strings at the end are padding.
  let n = parts.length;
  while (n > 0 && parts[n - 1] === '') n--;
  if (n % 2 !== 0) throw invalid('an option has no value', { option: parts[n - 1] });
  const out: TftpOption[] = [];
  for (let i = 0; i < n; i += 2) {
    const name = parts[i]!.toLowerCase();
    if (name === '') throw invalid('an option has an empty name');
    out.push([name, parts[i + 1]!]);
  }
  return out;
}

/** Decodes one datagram; throws `NETBOOT_TFTP_PACKET_INVALID` for anything malformed. */
export function decodePacket(buf: Buffer): TftpPacket {
  if (buf.length < 4) throw invalid('shorter than 4 bytes', { length: buf.length });
  const op = buf.readUInt16BE(0);
  switch (op) {
    case OPCODE.RRQ:
    case OPCODE.WRQ: {
      const parts = strings(buf, 2, true);
      if (parts.length < 2) throw invalid('a request needs a file name and a mode');
      const [filename, mode] = parts as [string, string];
      if (filename === '') throw invalid('the file name is empty');
      return {
        op: op === OPCODE.RRQ ? 'RRQ' : 'WRQ',
        filename,
        mode: mode.toLowerCase(),
        options: options(parts.slice(2)),
      };
    }
    case OPCODE.DATA:
      return { op: 'DATA', block: buf.readUInt16BE(2), data: buf.subarray(4) };
    case OPCODE.ACK:
      if (buf.length !== 4) throw invalid('an ACK is exactly 4 bytes', { length: buf.length });
      return { op: 'ACK', block: buf.readUInt16BE(2) };
    case OPCODE.ERROR:
      // Lenient on the terminator: an error from a client ends the transfer either way.
      return { op: 'ERROR', code: buf.readUInt16BE(2), message: strings(buf, 4, false)[0] ?? '' };
    case OPCODE.OACK:
      return { op: 'OACK', options: options(strings(buf, 2, true)) };
    default:
      throw invalid('unknown opcode', { opcode: op });
  }
}

/** A 4-byte datagram given as one big-endian number (the transfer socket hands ACKs over so). */
export function decodeShortPacket(word: number): TftpPacket {
  if (word >>> 16 === OPCODE.ACK) return { op: 'ACK', block: word & 0xffff };
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(word >>> 0);
  return decodePacket(buf);
}

function header(op: number, extraBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(2 + extraBytes);
  buf.writeUInt16BE(op, 0);
  return buf;
}

function withStrings(op: number, texts: readonly string[]): Buffer {
  const bodies = texts.map((t) => Buffer.from(t, 'latin1'));
  const buf = header(
    op,
    bodies.reduce((n, b) => n + b.length + 1, 0),
  );
  let at = 2;
  for (const b of bodies) {
    b.copy(buf, at);
    at += b.length;
    buf[at++] = 0;
  }
  return buf;
}

export function encodeRequest(
  op: 'RRQ' | 'WRQ',
  filename: string,
  mode: string,
  opts: readonly TftpOption[] = [],
): Buffer {
  return withStrings(OPCODE[op], [filename, mode, ...opts.flat()]);
}

export function encodeOack(opts: readonly TftpOption[]): Buffer {
  return withStrings(OPCODE.OACK, opts.flat());
}

/** `block` is the 16-bit number on the wire; callers wrap it (see transfer.ts). */
export function encodeData(block: number, data: Uint8Array): Buffer {
  const buf = header(OPCODE.DATA, 2 + data.length);
  buf.writeUInt16BE(block & 0xffff, 2);
  buf.set(data, 4);
  return buf;
}

export function encodeAck(block: number): Buffer {
  const buf = header(OPCODE.ACK, 2);
  buf.writeUInt16BE(block & 0xffff, 2);
  return buf;
}

export function encodeError(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'latin1');
  const buf = header(OPCODE.ERROR, 2 + text.length + 1);
  buf.writeUInt16BE(code, 2);
  text.copy(buf, 4);
  buf[buf.length - 1] = 0;
  return buf;
}

/**
 * RFC 764 netascii, what `mode netascii` transfers carry: every LF becomes CR LF and a bare CR
 * becomes CR NUL. tftp-hpa's client asks for it by default.
 */
export function toNetascii(bytes: Buffer): Buffer {
  let extra = 0;
  for (const b of bytes) if (b === 0x0a || b === 0x0d) extra++;
  if (extra === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + extra);
  let at = 0;
  for (const b of bytes) {
    if (b === 0x0a) {
      out[at++] = 0x0d;
      out[at++] = 0x0a;
    } else if (b === 0x0d) {
      out[at++] = 0x0d;
      out[at++] = 0x00;
    } else out[at++] = b;
  }
  return out;
}
