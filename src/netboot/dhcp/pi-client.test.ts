import { describe, expect, it } from 'vitest';
import { BOOTREQUEST, type DhcpMessage } from './codec.js';
import { OPTION } from './options.js';
import { identifyPi, parsePiGuid } from './pi-client.js';
import { raspberryPiBootMenu, bootMenuDescriptions, decodePxeSubOptions } from './pxe-options.js';

const VENDOR = 'PXEClient:Arch:00000:UNDI:002001';
const LE5 = Buffer.from('00' + '52506935' + '1741d000' + 'a7ed8900' + 'effdfe9f', 'hex');
const BE5 = Buffer.from('00' + '35695052' + '00d04117' + '0089eda7' + '9ffefdef', 'hex');
const LE4 = Buffer.from('00' + '52506934' + '1231c000' + '32a7ed89' + '78563412', 'hex');
const BE4 = Buffer.from('00' + '34695052' + '00c03112' + '89eda732' + '12345678', 'hex');

function discover(o: { mac?: string; vendor?: string | null; option97?: Buffer | null } = {}): DhcpMessage {
  const options = new Map<number, Buffer>([[OPTION.MESSAGE_TYPE, Buffer.from([1])]]);
  if (o.vendor !== null) options.set(OPTION.VENDOR_CLASS, Buffer.from(o.vendor ?? VENDOR));
  if (o.option97 !== null) options.set(OPTION.CLIENT_UUID, o.option97 ?? LE5);
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 1,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: Buffer.from((o.mac ?? '2c:cf:67:a7:ed:89').split(':').map((h) => parseInt(h, 16))),
    sname: '',
    file: '',
    options,
  };
}

describe('parsePiGuid', () => {
  it.each([
    ['Pi 5, "RPi5" little-endian', LE5, { model: 'pi5', serial8: '9ffefdef', byteOrder: 'le', revision: 0x00d04117 }],
    ['Pi 5, byte-swapped', BE5, { model: 'pi5', serial8: '9ffefdef', byteOrder: 'be', revision: 0x00d04117 }],
    ['Pi 4 capture order', LE4, { model: 'pi4', serial8: '12345678', byteOrder: 'le', revision: 0x00c03112 }],
    ['Pi 4, byte-swapped (CM4 log)', BE4, { model: 'pi4', serial8: '12345678', byteOrder: 'be', revision: 0x00c03112 }],
  ])('%s', (_case, option97, want) => expect(parsePiGuid(option97)).toEqual(want));

  it.each([
    ['absent', undefined],
    ['16 bytes', LE5.subarray(1)],
    ['type 1', Buffer.concat([Buffer.from([1]), LE5.subarray(1)])],
    ['another FourCC ("RPi3")', Buffer.from('00' + '52506933' + '00'.repeat(12), 'hex')],
    ['an x86 SMBIOS UUID', Buffer.from('00' + '4c4c4544' + '0037'.repeat(6), 'hex')],
  ])('is not a Pi GUID: %s', (_case, option97) => expect(parsePiGuid(option97)).toBeUndefined());
});

describe('identifyPi', () => {
  it.each([
    ['Pi 5 loader, GUID "RPi5"', discover(), { model: 'pi5', serial8: '9ffefdef' }],
    ['Pi 5 loader, GUID byte-swapped', discover({ option97: BE5 }), { model: 'pi5', serial8: '9ffefdef' }],
    ['Pi 4 loader', discover({ option97: LE4, mac: 'dc:a6:32:a7:ed:89' }), { model: 'pi4', serial8: '12345678' }],
    ['REQUEST without option 60 (rpi-eeprom#87)', discover({ vendor: null }), { model: 'pi5', serial8: '9ffefdef' }],
    [
      'custom option 97 prefix, Pi MAC d8:3a:dd',
      discover({ option97: Buffer.alloc(17, 7), mac: 'd8:3a:dd:00:00:01' }),
      { model: null, serial8: null },
    ],
    ['no option 97, Pi MAC 2c:cf:67', discover({ option97: null }), { model: null, serial8: null }],
  ])('recognises %s', (_case, msg, want) =>
    expect(identifyPi(msg)).toMatchObject({ ...want, mac: expect.any(String) }),
  );

  it.each([
    [
      'x86 PXE client',
      discover({ option97: Buffer.from('00' + '4c4c4544' + '0037'.repeat(6), 'hex'), mac: '52:54:00:12:34:56' }),
    ],
    ['Pi MAC without PXE vendor class (Linux on a Pi)', discover({ vendor: 'udhcp 1.35.0', option97: null })],
    ['UEFI firmware on a Pi (arch 11)', discover({ vendor: 'PXEClient:Arch:00011:UNDI:003000' })],
    ['unknown MAC, no GUID', discover({ option97: null, mac: '52:54:00:12:34:56' })],
  ])('does not take %s for a Pi bootloader', (_case, msg) => expect(identifyPi(msg)).toBeUndefined());
});

describe('raspberryPiBootMenu', () => {
  it('is byte for byte what dnsmasq sends for pxe-service=0,"Raspberry Pi Boot" (docs/pi5-netboot.md §1.3)', () => {
    const bytes = raspberryPiBootMenu();
    expect(bytes.toString('hex')).toBe(
      '060103' + '0a0400505845' + '0914000011' + Buffer.from('Raspberry Pi Boot').toString('hex') + 'ff',
    );
    expect(bytes.length).toBe(32);
  });

  it('decodes back to the menu the bootloader matches', () => {
    const sub = decodePxeSubOptions(raspberryPiBootMenu())!;
    expect(sub.get(6)).toEqual(Buffer.from([3]));
    expect(bootMenuDescriptions(sub.get(9)!)).toEqual(['Raspberry Pi Boot']);
  });
});
