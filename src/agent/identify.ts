import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ifMissing } from '../lib/if-missing.js';
import { normaliseMac } from '../lib/mac.js';

/** Where the kernel's views live; tests point these at a fixture tree. */
export interface SystemRoots {
  proc: string;
  sys: string;
}

export const REAL_ROOTS: SystemRoots = { proc: '/proc', sys: '/sys' };

/** What the board says about itself when it enrolls. */
export interface BoardIdentity {
  serial: string | undefined;
  macs: string[];
  model: string | null;
}

/** `key=value` words of a kernel command line; a bare word maps to ''. Later words win. */
export function parseKernelCmdline(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const word of text.trim().split(/\s+/)) {
    if (!word) continue;
    const eq = word.indexOf('=');
    params.set(eq < 0 ? word : word.slice(0, eq), eq < 0 ? '' : word.slice(eq + 1));
  }
  return params;
}

export async function readKernelCmdline(roots: SystemRoots): Promise<Map<string, string>> {
  return parseKernelCmdline((await readText(join(roots.proc, 'cmdline'))) ?? '');
}

/**
 * The board serial: the device tree's `serial-number` (a NUL-terminated hex string), else the
 * `Serial` line of /proc/cpuinfo (docs/pi5-netboot.md §7). Pi 4 pads it with `10000000`.
 */
export async function readSerial(roots: SystemRoots): Promise<string | undefined> {
  const dt = (await readText(join(roots.sys, 'firmware/devicetree/base/serial-number')))?.replace(/\0/g, '').trim();
  if (dt && /^[0-9a-fA-F]{8,16}$/.test(dt)) return dt.toLowerCase();
  const cpuinfo = (await readText(join(roots.proc, 'cpuinfo'))) ?? '';
  const line = /^Serial\s*:\s*([0-9a-fA-F]{8,16})\s*$/m.exec(cpuinfo);
  return line?.[1]?.toLowerCase();
}

export async function readModel(roots: SystemRoots): Promise<string | null> {
  const dt = (await readText(join(roots.sys, 'firmware/devicetree/base/model')))?.replace(/\0/g, '').trim();
  if (dt) return dt;
  const cpuinfo = (await readText(join(roots.proc, 'cpuinfo'))) ?? '';
  return /^Model\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? null;
}

/** MAC addresses of the network interfaces, Ethernet-style names first; loopback and all-zero ones left out. */
export async function readMacs(roots: SystemRoots): Promise<string[]> {
  const dir = join(roots.sys, 'class/net');
  const names = await readdir(dir).catch(ifMissing<string[]>([]));
  const found: { name: string; mac: string }[] = [];
  for (const name of names.sort()) {
    if (name === 'lo') continue;
    const mac = normaliseMac((await readText(join(dir, name, 'address'))) ?? '');
    if (mac && mac !== '00:00:00:00:00:00') found.push({ name, mac });
  }
  const rank = (n: string) => (n.startsWith('eth') || n.startsWith('end') ? 0 : 1);
  return found.sort((a, b) => rank(a.name) - rank(b.name)).map((f) => f.mac);
}

export async function identifyBoard(roots: SystemRoots): Promise<BoardIdentity> {
  return { serial: await readSerial(roots), macs: await readMacs(roots), model: await readModel(roots) };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}
