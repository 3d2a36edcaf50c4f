import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeTar } from '../../netboot/build/tar.js';
import { tempDir } from '../../../test/helpers/temp-dir.js';
import { elfMachineInTar } from './elf-in-tar.js';

/** An ELF header as far as e_machine (offset 18, little-endian), then filler. */
function elf(machine: number, size = 5000): Buffer {
  const b = Buffer.alloc(size, 0xaa);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2;
  b[5] = 1;
  b.writeUInt16LE(machine, 18);
  return b;
}

let dir: ReturnType<typeof tempDir>;
afterEach(() => dir.remove());

describe('elfMachineInTar', () => {
  it.each([
    [183, 'arm64'],
    [62, 'x86-64'],
    [40, 'arm'],
    [8, 'ELF machine 8'],
  ])('reads e_machine %i as %s, past other entries', async (machine, name) => {
    dir = tempDir();
    const file = join(dir.path, 'runtime.tar');
    await writeTar(file, [
      { path: 'lib', type: 'dir' },
      { path: 'lib/libfoo.so', type: 'file', data: Buffer.alloc(1234, 1) },
      { path: 'usr/bin/node', type: 'file', data: elf(machine) },
    ]);
    expect(await elfMachineInTar(file, 'usr/bin/node')).toBe(name);
  });

  it('says when the file is missing or not a program', async () => {
    dir = tempDir();
    const file = join(dir.path, 'runtime.tar');
    await writeTar(file, [{ path: 'usr/bin/node', type: 'file', data: Buffer.from('#!/bin/sh\n') }]);
    expect(await elfMachineInTar(file, 'usr/bin/node')).toBe('not an ELF program');
    expect(await elfMachineInTar(file, 'usr/bin/other')).toBeUndefined();
    writeFileSync(file, Buffer.alloc(100));
    expect(await elfMachineInTar(file, 'usr/bin/node')).toBeUndefined();
  });
});
