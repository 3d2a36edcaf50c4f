import { SafePathError } from '../../lib/safe-path.js';
import type { Logger } from '../../lib/logger.js';
import type { TftpFile, TftpFileSource, TftpRefusal } from '../tftp/server.js';
import type { TftpClient } from '../tftp/session.js';
import type { BootTokens } from './boot-tokens.js';
import { renderCmdline } from './cmdline.js';
import { renderConfigTxt } from './config-txt.js';
import type { BootFirmware } from './firmware.js';
import { parseBootPath, STAGE1_FILE } from './paths.js';

/** The stage-1 initramfs and the runtime bundle it will fetch, from the last `netboot build`. */
export interface Stage1 {
  initramfs: Buffer;
  runtimeSha256: string;
}

export interface BootTreeSettings {
  console: string;
  cmdlineExtra: string;
  target: string;
  deviceApiUrl(): string;
}

export interface BootTreeDeps {
  firmware: BootFirmware;
  stage1(): Promise<Stage1 | undefined>;
  tokens: BootTokens;
  /** Whether a board may netboot (a board imaged successfully may not, until a re-image is asked for). */
  netbootAllowed(serial8: string): Promise<{ allowed: boolean; reason: string }>;
  /** The board holding a DHCP lease on `ip`, when DHCP knows it (option 97). */
  serialForAddress(ip: string): Promise<string | undefined>;
  settings: BootTreeSettings;
  log: Logger;
  now?: () => number;
}

/**
 * A board's probe and its real read of config.txt/cmdline.txt must see the same bytes (the tsize
 * of the probe is the length it then expects), so one boot's pair is reused for a while; a boot
 * after that gets a fresh token.
 */
const BOOT_FILES_REUSE_MS = 120_000;
/** How long a client address stays linked to the serial it last asked for with a prefix. */
const ADDRESS_MEMORY_MS = 600_000;
const WARN_INTERVAL_MS = 60_000;

const NOT_FOUND: TftpRefusal = { refused: 'not-found', message: 'File not found' };

/**
 * The virtual tree a Pi reads over TFTP: generated `config.txt` and `cmdline.txt` per board,
 * kernel, device trees and overlays from the boot files, and the stage-1 initramfs. Paths work
 * with and without the `<serial8>/` prefix; a root path is matched to a board by its address.
 */
export function createBootTree(deps: BootTreeDeps): TftpFileSource {
  const now = deps.now ?? Date.now;
  const serialOfAddress = new Map<string, { serial8: string; at: number }>();
  const generated = new Map<string, { configTxt: Buffer; cmdlineTxt: Buffer; at: number }>();
  const warnedAt = new Map<string, number>();

  const warn = (key: string, fields: Record<string, unknown>, message: string) => {
    const last = warnedAt.get(key);
    if (last !== undefined && now() - last < WARN_INTERVAL_MS) return;
    warnedAt.set(key, now());
    deps.log.warn(fields, message);
  };

  const forgetOld = () => {
    const t = now();
    for (const [ip, e] of serialOfAddress) if (t - e.at > ADDRESS_MEMORY_MS) serialOfAddress.delete(ip);
    for (const [serial, e] of generated) if (t - e.at > BOOT_FILES_REUSE_MS) generated.delete(serial);
  };

  async function boardOf(serial8: string | null, client: TftpClient): Promise<string | null> {
    if (serial8 !== null) {
      serialOfAddress.set(client.address, { serial8, at: now() });
      return serial8;
    }
    const seen = serialOfAddress.get(client.address);
    if (seen && now() - seen.at <= ADDRESS_MEMORY_MS) return seen.serial8;
    return (await deps.serialForAddress(client.address)) ?? null;
  }

  async function kernelName(): Promise<string | undefined> {
    for (const name of ['kernel_2712.img', 'kernel8.img']) if (await deps.firmware.read(name)) return name;
    return undefined;
  }

  async function bootFiles(serial8: string): Promise<{ configTxt: Buffer; cmdlineTxt: Buffer } | TftpRefusal> {
    const cached = generated.get(serial8);
    if (cached && now() - cached.at <= BOOT_FILES_REUSE_MS) return cached;
    const stage1 = await deps.stage1();
    if (!stage1) {
      warn(
        'stage1',
        {},
        'network boot has no stage 1 to serve: run "rpi-deploy netboot build"; boards fall back to their next boot mode',
      );
      return NOT_FOUND;
    }
    const kernel = await kernelName();
    if (!kernel) {
      warn(
        'kernel',
        {},
        'the boot files have no kernel_2712.img or kernel8.img: activate an image or set netboot.tftp.bootFilesDir',
      );
      return NOT_FOUND;
    }
    const token = await deps.tokens.issue(serial8);
    const files = {
      configTxt: Buffer.from(renderConfigTxt({ serial8, kernel, initramfs: STAGE1_FILE })),
      cmdlineTxt: Buffer.from(
        renderCmdline({
          console: deps.settings.console,
          extra: deps.settings.cmdlineExtra,
          apiUrl: deps.settings.deviceApiUrl(),
          target: deps.settings.target,
          token,
          runtimeSha256: stage1.runtimeSha256,
        }),
      ),
      at: now(),
    };
    forgetOld();
    generated.set(serial8, files);
    return files;
  }

  return {
    async open(path, client): Promise<TftpFile | TftpRefusal> {
      const req = parseBootPath(path);
      if (req.kind === 'invalid')
        return { refused: 'access-violation', message: `Access violation: the path ${req.reason}` };
      const serial8 = await boardOf(req.serial8, client);
      if (serial8 !== null) {
        const gate = await deps.netbootAllowed(serial8);
        if (!gate.allowed) {
          deps.log.debug({ serial8, path, reason: gate.reason }, 'network boot refused to a board');
          return NOT_FOUND;
        }
      }
      const found = (bytes: Buffer | undefined): TftpFile | TftpRefusal => (bytes ? { bytes, serial8 } : NOT_FOUND);
      switch (req.kind) {
        case 'config.txt':
        case 'cmdline.txt': {
          if (serial8 === null) return NOT_FOUND; // no board to generate for: a root request from an unknown address
          const files = await bootFiles(serial8);
          if ('refused' in files) return files;
          return found(req.kind === 'config.txt' ? files.configTxt : files.cmdlineTxt);
        }
        case 'stage1':
          return found((await deps.stage1())?.initramfs);
        case 'firmware':
          try {
            return found(await deps.firmware.read(req.name));
          } catch (err) {
            if (!(err instanceof SafePathError)) throw err;
            warn(
              `escape:${req.name}`,
              { path, reason: err.message },
              'a boot file leads out of the boot files directory and is not served',
            );
            return { refused: 'access-violation', message: 'Access violation' };
          }
        case 'unknown':
          return NOT_FOUND;
      }
    },
  };
}
