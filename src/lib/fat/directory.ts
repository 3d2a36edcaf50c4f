/**
 * Pure codec of FAT directory entries (Microsoft FAT specification §6 and §7): 32-byte short
 * (8.3) entries, preceded by long-file-name (LFN) entries that carry the name in UCS-2, 13
 * characters each, last part first, tied to their short entry by a checksum.
 */

/** Size of one directory entry (slot). */
export const ENTRY_BYTES = 32;
/** The archive attribute: set on every file written, as FAT drivers do. */
export const ATTR_ARCHIVE = 0x20;
const ATTR_VOLUME_ID = 0x08;
const ATTR_DIRECTORY = 0x10;
const ATTR_LONG_NAME = 0x0f;
const LAST_LONG_ENTRY = 0x40;
const DELETED = 0xe5;
/** Windows NT / Linux vfat: the base name or extension of a short entry is shown lower-case. */
const NT_LOWER_BASE = 0x08;
const NT_LOWER_EXT = 0x10;
const LFN_CHAR_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/** One name in a directory, with where its entries sit (slot = 32-byte entry index). */
export interface DirEntry {
  name: string;
  /** The 11 bytes of the short name as stored, e.g. `CMDLINE TXT`. */
  shortName: string;
  attributes: number;
  isDirectory: boolean;
  firstCluster: number;
  sizeBytes: number;
  /** First slot of this name (its first LFN entry, or the short entry). */
  firstSlot: number;
  /** Slot of the short entry. */
  shortSlot: number;
}

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

/** §7.2: the checksum of an 11-byte short name that each LFN entry repeats. */
export function lfnChecksum(short11: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short11[i]!) & 0xff;
  return sum;
}

function decodeShortName(e: Uint8Array): string {
  const bytes = Array.from(e.subarray(0, 11));
  if (bytes[0] === 0x05) bytes[0] = DELETED;
  const text = (from: number, to: number, lower: boolean) => {
    const s = String.fromCharCode(...bytes.slice(from, to)).trimEnd();
    return lower ? s.toLowerCase() : s;
  };
  const base = text(0, 8, (e[12]! & NT_LOWER_BASE) !== 0);
  const ext = text(8, 11, (e[12]! & NT_LOWER_EXT) !== 0);
  return ext ? `${base}.${ext}` : base;
}

/**
 * Every live name in a directory's bytes, in order, without `.`, `..` and the volume label.
 * An LFN run with a wrong checksum or a broken sequence is ignored and the short name used,
 * as Linux does. Parsing stops at the first never-used entry (first byte 0).
 */
export function parseDirectory(bytes: Uint8Array): DirEntry[] {
  const entries: DirEntry[] = [];
  let lfn: { parts: string[]; checksum: number; expect: number; firstSlot: number } | null = null;
  for (let slot = 0; slot * ENTRY_BYTES < bytes.length; slot++) {
    const e = bytes.subarray(slot * ENTRY_BYTES, (slot + 1) * ENTRY_BYTES);
    if (e[0] === 0) break;
    if (e[0] === DELETED) {
      lfn = null;
      continue;
    }
    const attributes = e[11]!;
    if ((attributes & 0x3f) === ATTR_LONG_NAME) {
      const seq = e[0]! & 0x1f;
      if (e[0]! & LAST_LONG_ENTRY) lfn = { parts: [], checksum: e[13]!, expect: seq, firstSlot: slot };
      if (!lfn || seq !== lfn.expect || seq === 0 || e[13] !== lfn.checksum) {
        lfn = null;
        continue;
      }
      let part = '';
      for (const o of LFN_CHAR_OFFSETS) {
        const c = u16(e, o);
        if (c === 0 || c === 0xffff) break;
        part += String.fromCharCode(c);
      }
      lfn.parts.unshift(part);
      lfn.expect--;
      continue;
    }
    const long = lfn && lfn.expect === 0 && lfn.checksum === lfnChecksum(e.subarray(0, 11)) ? lfn : null;
    lfn = null;
    if (attributes & ATTR_VOLUME_ID) continue;
    const shortName = String.fromCharCode(...e.subarray(0, 11));
    if (shortName === '.          ' || shortName === '..         ') continue;
    entries.push({
      name: long ? long.parts.join('') : decodeShortName(e),
      shortName,
      attributes,
      isDirectory: (attributes & ATTR_DIRECTORY) !== 0,
      firstCluster: (u16(e, 20) << 16) | u16(e, 26),
      sizeBytes: u32(e, 28),
      firstSlot: long ? long.firstSlot : slot,
      shortSlot: slot,
    });
  }
  return entries;
}

/** Characters allowed in a short name besides A–Z and 0–9 (§6.1). */
const SHORT_NAME_CHARS = /^[A-Z0-9!#$%&'()@^_`{}~-]*$/;

/** `name` as an exact upper-case 8.3 name (`CONFIG  TXT`), or null if it is not one. */
function exactShortName(name: string): string | null {
  const dot = name.lastIndexOf('.');
  const base = dot < 0 ? name : name.slice(0, dot);
  const ext = dot < 0 ? '' : name.slice(dot + 1);
  if (base.length < 1 || base.length > 8 || ext.length > 3 || (dot >= 0 && ext.length === 0)) return null;
  if (!SHORT_NAME_CHARS.test(base) || !SHORT_NAME_CHARS.test(ext)) return null;
  return base.padEnd(8) + ext.padEnd(3);
}

/**
 * The short name for a new entry and whether it needs LFN entries. A name that is already an
 * upper-case 8.3 name is stored as is; any other gets LFN entries and a generated short name
 * (`USER-D~1`), numbered past the ones `taken` (11-byte short names already in the directory).
 */
export function shortNameFor(name: string, taken: ReadonlySet<string>): { short11: string; needsLfn: boolean } {
  const exact = exactShortName(name);
  if (exact !== null && !taken.has(exact)) return { short11: exact, needsLfn: false };
  const upper = name.toUpperCase().replace(/^\.+/, '').replace(/ /g, '');
  const dot = upper.lastIndexOf('.');
  const clean = (s: string) => [...s].map((c) => (SHORT_NAME_CHARS.test(c) ? c : '_')).join('');
  const base = clean((dot < 0 ? upper : upper.slice(0, dot)).replace(/\./g, '')) || '_';
  const ext = clean(dot < 0 ? '' : upper.slice(dot + 1)).slice(0, 3);
  const same = exactShortName(name.toUpperCase());
  if (same !== null && !taken.has(same)) return { short11: same, needsLfn: true };
  for (let n = 1; n < 1_000_000; n++) {
    const tail = `~${n}`;
    const candidate = (base.slice(0, 8 - tail.length) + tail).padEnd(8) + ext.padEnd(3);
    if (!taken.has(candidate)) return { short11: candidate, needsLfn: true };
  }
  throw new Error('no free short name'); // a directory cannot hold a million entries
}

/** FAT date and time (§6.3), in UTC so that images built anywhere are byte-identical. */
export function fatTimestamp(at: Date): { date: number; time: number } {
  const year = Math.min(Math.max(at.getUTCFullYear(), 1980), 2107);
  return {
    date: ((year - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | Math.floor(at.getUTCSeconds() / 2),
  };
}

/** A name to add to a directory, with the short name chosen by shortNameFor. */
export interface NewEntry {
  name: string;
  short11: string;
  needsLfn: boolean;
  attributes: number;
  firstCluster: number;
  sizeBytes: number;
  modifiedAt: Date;
}

/** Number of 32-byte slots `name` takes (LFN entries + the short entry). */
export function slotsFor(name: string, needsLfn: boolean): number {
  return (needsLfn ? Math.ceil(name.length / 13) : 0) + 1;
}

/** The LFN entries (if any) and the short entry of a new name, ready to write in a row. */
export function encodeEntries(n: NewEntry): Uint8Array {
  const slots = slotsFor(n.name, n.needsLfn);
  const out = new Uint8Array(slots * ENTRY_BYTES);
  const short = Uint8Array.from(n.short11, (c) => c.charCodeAt(0));
  const checksum = lfnChecksum(short);
  for (let i = 0; i < slots - 1; i++) {
    const seq = slots - 1 - i;
    const e = out.subarray(i * ENTRY_BYTES, (i + 1) * ENTRY_BYTES);
    e[0] = seq | (i === 0 ? LAST_LONG_ENTRY : 0);
    e[11] = ATTR_LONG_NAME;
    e[13] = checksum;
    LFN_CHAR_OFFSETS.forEach((o, k) => {
      const at = (seq - 1) * 13 + k;
      const c = at < n.name.length ? n.name.charCodeAt(at) : at === n.name.length ? 0 : 0xffff;
      e[o] = c & 0xff;
      e[o + 1] = c >> 8;
    });
  }
  const s = out.subarray((slots - 1) * ENTRY_BYTES);
  s.set(short, 0);
  if (s[0] === DELETED) s[0] = 0x05;
  s[11] = n.attributes;
  const { date, time } = fatTimestamp(n.modifiedAt);
  writeU16(s, 14, time); // created
  writeU16(s, 16, date);
  updateShortEntry(s, n);
  return out;
}

/** Changes the start cluster, size and modification time of an existing short entry in place. */
export function updateShortEntry(
  e: Uint8Array,
  u: { firstCluster: number; sizeBytes: number; modifiedAt: Date },
): void {
  const { date, time } = fatTimestamp(u.modifiedAt);
  e[11] = e[11]! | ATTR_ARCHIVE;
  writeU16(e, 18, date);
  writeU16(e, 20, u.firstCluster >>> 16);
  writeU16(e, 22, time);
  writeU16(e, 24, date);
  writeU16(e, 26, u.firstCluster & 0xffff);
  writeU32(e, 28, u.sizeBytes);
}

function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >> 8) & 0xff;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  for (let i = 0; i < 4; i++) b[o + i] = (v >>> (8 * i)) & 0xff;
}
