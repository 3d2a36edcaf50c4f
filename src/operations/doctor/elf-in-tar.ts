import { open } from 'node:fs/promises';

/** ELF e_machine values of the architectures a runtime bundle could hold by mistake. */
const MACHINES: Record<number, string> = { 3: 'x86', 40: 'arm', 62: 'x86-64', 183: 'arm64' };

/**
 * The architecture of the ELF program at `path` inside the (ustar) tar `file`, reading only
 * headers: 'arm64', 'x86-64', …; undefined when the tar has no such file.
 */
export async function elfMachineInTar(file: string, path: string): Promise<string | undefined> {
  const fd = await open(file, 'r');
  try {
    const header = Buffer.alloc(512);
    for (let at = 0; ; ) {
      const { bytesRead } = await fd.read(header, 0, 512, at);
      if (bytesRead < 512 || header.every((b) => b === 0)) return undefined;
      const field = (start: number, length: number) => header.subarray(start, start + length).toString('latin1').replace(/\0.*$/s, '');
      const prefix = field(345, 155);
      const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
      const size = parseInt(field(124, 12).trim() || '0', 8);
      if (name.replace(/^\.\//, '') === path) {
        const elf = Buffer.alloc(20);
        await fd.read(elf, 0, 20, at + 512);
        if (elf.readUInt32BE(0) !== 0x7f454c46) return 'not an ELF program';
        const machine = elf.readUInt16LE(18);
        return MACHINES[machine] ?? `ELF machine ${machine}`;
      }
      at += 512 + Math.ceil(size / 512) * 512;
    }
  } finally {
    await fd.close();
  }
}
