import { open } from 'node:fs/promises';
import { tarIndex } from '../tar-index.js';

/** ELF e_machine values of the architectures a runtime bundle could hold by mistake. */
const MACHINES: Record<number, string> = { 3: 'x86', 40: 'arm', 62: 'x86-64', 183: 'arm64' };

/**
 * The architecture of the ELF program at `path` inside the tar `file`: 'arm64', 'x86-64', …;
 * undefined when the tar has no such file.
 */
export async function elfMachineInTar(file: string, path: string): Promise<string | undefined> {
  const entry = (await tarIndex(file)).find((e) => e.path === path && e.type === 'file');
  if (!entry) return undefined;
  const fd = await open(file, 'r');
  try {
    const elf = Buffer.alloc(20);
    const { bytesRead } = await fd.read(elf, 0, 20, entry.offset);
    if (bytesRead < 20 || entry.size < 20 || elf.readUInt32BE(0) !== 0x7f454c46) return 'not an ELF program';
    const machine = elf.readUInt16LE(18);
    return MACHINES[machine] ?? `ELF machine ${machine}`;
  } finally {
    await fd.close();
  }
}
