/**
 * Option 43 as PXE vendor sub-options (PXE spec 2.1 §2.4): tag, length, value, closed by 255.
 * The Raspberry Pi bootloader uses siaddr/option 54 as its TFTP server only when option 43
 * holds a boot menu (sub-option 9) whose text is "Raspberry Pi Boot" (docs/pi5-netboot.md §1.3).
 */

export const PXE_SUBOPTION = {
  DISCOVERY_CONTROL: 6,
  BOOT_MENU: 9,
  MENU_PROMPT: 10,
  END: 255,
} as const;

/** The boot-menu text the bootloader looks for (its `PXE_OPTION43` default). */
export const RPI_BOOT_MENU_TEXT = 'Raspberry Pi Boot';

/**
 * The 32 bytes dnsmasq sends for `pxe-service=0,"Raspberry Pi Boot"`, which Pi 4 and Pi 5
 * bootloaders are logged parsing: discovery control 3 (no broadcast/multicast discovery, use the
 * boot server list), menu prompt (timeout 0, "PXE"), one boot menu item of type 0 (local boot).
 */
export function raspberryPiBootMenu(): Buffer {
  return encodePxeSubOptions([
    [PXE_SUBOPTION.DISCOVERY_CONTROL, Buffer.from([3])],
    [PXE_SUBOPTION.MENU_PROMPT, Buffer.concat([Buffer.from([0]), Buffer.from('PXE', 'latin1')])],
    [PXE_SUBOPTION.BOOT_MENU, bootMenuItem(0, RPI_BOOT_MENU_TEXT)],
  ]);
}

/** One boot menu entry: 2-byte server type, 1-byte description length, description. */
function bootMenuItem(type: number, description: string): Buffer {
  const text = Buffer.from(description, 'latin1');
  const head = Buffer.alloc(3);
  head.writeUInt16BE(type);
  head[2] = text.length;
  return Buffer.concat([head, text]);
}

export function encodePxeSubOptions(subOptions: readonly (readonly [number, Buffer])[]): Buffer {
  return Buffer.concat([
    ...subOptions.map(([tag, value]) => Buffer.concat([Buffer.from([tag, value.length]), value])),
    Buffer.from([PXE_SUBOPTION.END]),
  ]);
}

/** Sub-options by tag; undefined when the bytes are not a well-formed TLV list. */
export function decodePxeSubOptions(buf: Buffer): Map<number, Buffer> | undefined {
  const out = new Map<number, Buffer>();
  let i = 0;
  while (i < buf.length) {
    const tag = buf[i]!;
    if (tag === PXE_SUBOPTION.END) return out;
    if (tag === 0) {
      i++;
      continue;
    }
    const len = buf[i + 1];
    if (len === undefined || i + 2 + len > buf.length) return undefined;
    out.set(tag, buf.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return out;
}

/** The descriptions in a boot menu (sub-option 9), as the bootloader reads them. */
export function bootMenuDescriptions(menu: Buffer): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < menu.length) {
    const len = menu[i + 2];
    if (len === undefined || i + 3 + len > menu.length) return undefined;
    out.push(menu.subarray(i + 3, i + 3 + len).toString('latin1'));
    i += 3 + len;
  }
  return out;
}
