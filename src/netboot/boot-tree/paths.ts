/**
 * What a TFTP path names in the boot tree. Pure. A Pi 5 asks for `<serial8>/config.txt` first
 * and keeps that prefix when the answer is a file; `config.txt` without the prefix is its fallback
 * (docs/pi5-netboot.md §2.1–2.2). Everything else it may ask for is answered "not found".
 */

/** The file name under which the tree serves the stage-1 initramfs (config.txt names it). */
export const STAGE1_FILE = 'rpi-deploy-stage1.img';

export type BootRequest =
  | { kind: 'config.txt' | 'cmdline.txt' | 'stage1' | 'unknown'; serial8: string | null }
  /** A file taken from the boot files: kernel, device trees, overlays. */
  | { kind: 'firmware'; name: string; serial8: string | null }
  /** A path that tries to leave the tree; answered "access violation". */
  | { kind: 'invalid'; reason: string };

const SERIAL8 = /^[0-9a-f]{8}$/;

/**
 * What a Pi 5 boots from (docs/pi5-netboot.md §5.1): the kernel (`kernel_2712.img`, the 16K-page build,
 * or `kernel8.img`), every `bcm2712*.dtb` (the firmware picks the board's) and the overlays.
 */
const FIRMWARE = [/^kernel(_2712|8)\.img$/, /^bcm2712[A-Za-z0-9._+-]*\.dtb$/, /^overlays\/[A-Za-z0-9._+-]+$/];

export function parseBootPath(requested: string): BootRequest {
  if (requested.includes('\0') || requested.includes('\\'))
    return { kind: 'invalid', reason: 'contains a NUL byte or a backslash' };
  // TFTP has no current directory: a leading slash (curl, some ROMs) means the root.
  const parts = requested.replace(/^\/+/, '').split('/');
  if (parts.some((p) => p === '..' || p === '.')) return { kind: 'invalid', reason: 'has a . or .. component' };
  if (parts.some((p) => p === '')) return { kind: 'unknown', serial8: null };
  const serial8 = parts.length > 1 && SERIAL8.test(parts[0]!) ? parts.shift()! : null;
  const name = parts.join('/');
  if (name === 'config.txt' || name === 'cmdline.txt') return { kind: name, serial8 };
  if (name === STAGE1_FILE) return { kind: 'stage1', serial8 };
  if (FIRMWARE.some((re) => re.test(name))) return { kind: 'firmware', name, serial8 };
  return { kind: 'unknown', serial8 };
}
