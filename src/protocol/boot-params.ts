/**
 * Kernel command-line parameters through which network boot hands a board what it needs: the
 * generated cmdline.txt writes them, stage 1's /init and the agent read them from /proc/cmdline.
 * The names are the agent's (`rpi_deploy.*`).
 */
export const BOOT_PARAM = {
  /** Base URL of the device API, e.g. `http://192.168.151.1:5001`. */
  server: 'rpi_deploy.server',
  /** The per-boot token the device API checks at enrollment. */
  token: 'rpi_deploy.token',
  /** The board's serial as its bootloader names it (low 32 bits, 8 lowercase hex digits). */
  serial: 'rpi_deploy.serial',
  /** The card the agent writes (`/dev/mmcblk0` on a Pi 5). */
  target: 'rpi_deploy.target',
  /** SHA-256 of the runtime bundle stage 1 downloads (`GET <server>/v1/runtime/<sha256>.tar`). */
  runtime: 'rpi_deploy.runtime',
} as const;

export type BootParams = Partial<Record<keyof typeof BOOT_PARAM, string>>;

/** Reads the rpi-deploy parameters out of a kernel command line; others are ignored, the last of a repeated key wins. */
export function parseBootParams(cmdline: string): BootParams {
  const byName = new Map<string, keyof typeof BOOT_PARAM>(Object.entries(BOOT_PARAM).map(([k, v]) => [v, k as keyof typeof BOOT_PARAM]));
  const out: BootParams = {};
  for (const word of cmdline.trim().split(/\s+/)) {
    const at = word.indexOf('=');
    const key = at > 0 ? byName.get(word.slice(0, at)) : undefined;
    if (key) out[key] = word.slice(at + 1);
  }
  return out;
}

/** Path of the runtime bundle on the device API. */
export function runtimeBundlePath(sha256: string): string {
  return `/v1/runtime/${sha256}.tar`;
}
