import { describe, expect, it } from 'vitest';
import { parseBootPath, STAGE1_FILE, type BootRequest } from './paths.js';

describe('parseBootPath', () => {
  it.each<[string, BootRequest]>([
    ['9ffefdef/config.txt', { kind: 'config.txt', serial8: '9ffefdef' }],
    ['config.txt', { kind: 'config.txt', serial8: null }],
    ['/config.txt', { kind: 'config.txt', serial8: null }],
    ['9ffefdef/cmdline.txt', { kind: 'cmdline.txt', serial8: '9ffefdef' }],
    [`9ffefdef/${STAGE1_FILE}`, { kind: 'stage1', serial8: '9ffefdef' }],
    ['9ffefdef/kernel_2712.img', { kind: 'firmware', name: 'kernel_2712.img', serial8: '9ffefdef' }],
    ['kernel8.img', { kind: 'firmware', name: 'kernel8.img', serial8: null }],
    ['bcm2712-rpi-5-b.dtb', { kind: 'firmware', name: 'bcm2712-rpi-5-b.dtb', serial8: null }],
    ['da591740/bcm2712d0-rpi-5-b.dtb', { kind: 'firmware', name: 'bcm2712d0-rpi-5-b.dtb', serial8: 'da591740' }],
    ['overlays/overlay_map.dtb', { kind: 'firmware', name: 'overlays/overlay_map.dtb', serial8: null }],
    ['da591740/overlays/bcm2712d0.dtbo', { kind: 'firmware', name: 'overlays/bcm2712d0.dtbo', serial8: 'da591740' }],
    // Probes a Pi 5 makes that need no answer but "not found" (docs/pi5-netboot.md §2.2).
    ['da591740/pieeprom.sig', { kind: 'unknown', serial8: 'da591740' }],
    ['armstub8-2712.bin', { kind: 'unknown', serial8: null }],
    ['start4.elf', { kind: 'unknown', serial8: null }],
    ['bcm2711-rpi-4-b.dtb', { kind: 'unknown', serial8: null }],
    ['overlays/sub/x.dtbo', { kind: 'unknown', serial8: null }],
    ['9FFEFDEF/config.txt', { kind: 'unknown', serial8: null }],
    ['9ffefdef', { kind: 'unknown', serial8: null }],
    ['9ffefdef//config.txt', { kind: 'unknown', serial8: null }],
    ['etc/passwd', { kind: 'unknown', serial8: null }],
    ['//etc/passwd', { kind: 'unknown', serial8: null }],
    ['../etc/passwd', { kind: 'invalid', reason: 'has a . or .. component' }],
    ['9ffefdef/../../etc/passwd', { kind: 'invalid', reason: 'has a . or .. component' }],
    ['overlays/../../x', { kind: 'invalid', reason: 'has a . or .. component' }],
    ['./config.txt', { kind: 'invalid', reason: 'has a . or .. component' }],
    ['config.txt\0.png', { kind: 'invalid', reason: 'contains a NUL byte or a backslash' }],
    ['..\\config.txt', { kind: 'invalid', reason: 'contains a NUL byte or a backslash' }],
  ])('%j', (path, want) => expect(parseBootPath(path)).toEqual(want));
});
