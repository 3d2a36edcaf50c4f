import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identifyBoard, parseKernelCmdline, type SystemRoots } from './identify.js';

let dir: string;
let roots: SystemRoots;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'identify-'));
  roots = { proc: join(dir, 'proc'), sys: join(dir, 'sys') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function put(path: string, content: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), content);
}

describe('parseKernelCmdline', () => {
  it('splits key=value words, keeps bare words and lets later words win', () => {
    const p = parseKernelCmdline(
      'console=tty1 quiet rpi_deploy.server=http://198.18.0.1:5001 ds=nocloud;i=x rpi_deploy.token=a rpi_deploy.token=b\n',
    );
    expect(Object.fromEntries(p)).toEqual({
      console: 'tty1',
      quiet: '',
      'rpi_deploy.server': 'http://198.18.0.1:5001',
      ds: 'nocloud;i=x',
      'rpi_deploy.token': 'b',
    });
  });
});

describe('identifyBoard', () => {
  it('reads a Pi 5 from the device tree and its interfaces, Ethernet first', async () => {
    put('sys/firmware/devicetree/base/serial-number', '9d00ce41d137e638\0');
    put('sys/firmware/devicetree/base/model', 'Raspberry Pi 5 Model B Rev 1.0\0');
    put('sys/class/net/lo/address', '00:00:00:00:00:00\n');
    put('sys/class/net/wlan0/address', '2c:cf:67:00:00:02\n');
    put('sys/class/net/eth0/address', '2C:CF:67:00:00:01\n');
    expect(await identifyBoard(roots)).toEqual({
      serial: '9d00ce41d137e638',
      macs: ['2c:cf:67:00:00:01', '2c:cf:67:00:00:02'],
      model: 'Raspberry Pi 5 Model B Rev 1.0',
    });
  });

  it('falls back to /proc/cpuinfo (Pi 4 style serial)', async () => {
    put(
      'proc/cpuinfo',
      'processor\t: 0\nHardware\t: BCM2835\nRevision\t: c03111\nSerial\t\t: 10000000ABCDEF01\nModel\t\t: Raspberry Pi 4 Model B Rev 1.1\n',
    );
    expect(await identifyBoard(roots)).toEqual({
      serial: '10000000abcdef01',
      macs: [],
      model: 'Raspberry Pi 4 Model B Rev 1.1',
    });
  });

  it('finds no serial on a machine that has none (QEMU virt)', async () => {
    put('proc/cpuinfo', 'processor\t: 0\nBogoMIPS\t: 125.00\n');
    expect((await identifyBoard(roots)).serial).toBeUndefined();
  });
});
