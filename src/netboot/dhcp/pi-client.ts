import type { DhcpMessage } from './codec.js';
import { getText, OPTION } from './options.js';

/**
 * Recognising Raspberry Pi 4/5 bootloaders in DHCP (docs/pi5-netboot.md §1.1, §1.2).
 *
 * The EEPROM sends vendor class `PXEClient:Arch:00000:UNDI:002001` (option 93 = 0, not the
 * "arm64 UEFI" 11 some guides claim) and option 97: type 0 + a 16-byte GUID of FourCC
 * (`RPi4`/`RPi5`), board revision, the MAC's low 4 bytes and the serial's low 32 bits. The
 * FourCC has been seen in both byte orders; the fields after it follow the same order (seen in a
 * Pi 4 capture for the little-endian form, inferred for the other).
 */

export const PI_VENDOR_CLASS_PREFIX = 'PXEClient:Arch:00000';

/** MAC prefixes of Raspberry Pi boards; Pi 5/CM5 use 2c:cf:67 and d8:3a:dd besides the older ones. */
export const PI_OUIS: readonly string[] = ['2c:cf:67', 'd8:3a:dd', 'b8:27:eb', 'dc:a6:32', 'e4:5f:01', '28:cd:c1'];

export type PiModel = 'pi4' | 'pi5';

/** What option 97 says about a board. */
export interface PiGuid {
  model: PiModel;
  /** The serial's low 32 bits as 8 lowercase hex digits: the board's TFTP prefix and fleet serial8. */
  serial8: string;
  /** `le`: `52 50 69 35` ("RPi5" as bytes); `be`: `35 69 50 52`. */
  byteOrder: 'le' | 'be';
  revision: number;
}

const FOURCC: Record<string, { model: PiModel; byteOrder: 'le' | 'be' }> = {
  '52506934': { model: 'pi4', byteOrder: 'le' },
  '52506935': { model: 'pi5', byteOrder: 'le' },
  '34695052': { model: 'pi4', byteOrder: 'be' },
  '35695052': { model: 'pi5', byteOrder: 'be' },
};

/** Parses option 97 (17 bytes, type 0); undefined when it is absent or not a Pi GUID. */
export function parsePiGuid(option97: Buffer | undefined): PiGuid | undefined {
  if (option97?.length !== 17 || option97[0] !== 0) return undefined;
  const kind = FOURCC[option97.subarray(1, 5).toString('hex')];
  if (!kind) return undefined;
  const read = (offset: number) =>
    kind.byteOrder === 'le' ? option97.readUInt32LE(offset) : option97.readUInt32BE(offset);
  return { ...kind, revision: read(5), serial8: read(13).toString(16).padStart(8, '0') };
}

export function macOf(msg: DhcpMessage): string {
  return [...msg.chaddr.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function hasPiOui(mac: string): boolean {
  return PI_OUIS.includes(mac.slice(0, 8));
}

/** A Pi bootloader as far as this message tells. */
export interface PiClient {
  mac: string;
  model: PiModel | null;
  serial8: string | null;
  /** Option 97 as received, echoed in replies as dnsmasq does. */
  option97: Buffer | null;
}

/**
 * A DISCOVER (or REQUEST) from a Pi bootloader: the PXE vendor class plus a Pi GUID or a Pi MAC
 * prefix. A message without option 60 still counts when option 97 is a Pi GUID: in 2020 the
 * bootloader's REQUEST lacked option 60 (rpi-eeprom#87), so it must not be dropped.
 */
export function identifyPi(msg: DhcpMessage): PiClient | undefined {
  const mac = macOf(msg);
  const option97 = msg.options.get(OPTION.CLIENT_UUID);
  const guid = parsePiGuid(option97);
  const vendorClass = getText(msg.options, OPTION.VENDOR_CLASS);
  const isPxe = vendorClass?.startsWith(PI_VENDOR_CLASS_PREFIX) ?? false;
  if (!guid && !(isPxe && hasPiOui(mac))) return undefined;
  if (guid && vendorClass !== undefined && !isPxe) return undefined;
  return { mac, model: guid?.model ?? null, serial8: guid?.serial8 ?? null, option97: option97 ?? null };
}
