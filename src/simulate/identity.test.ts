import { describe, expect, it } from 'vitest';
import { isSimulatedSerial, simulatedIdentity } from './identity.js';

describe('simulatedIdentity', () => {
  it.each([
    [1, 0, '5140da7a00010000', '02:51:00:01:00:00'],
    [1, 499, '5140da7a000101f3', '02:51:00:01:01:f3'],
    [0xbeef, 0xffff, '5140da7abeefffff', '02:51:be:ef:ff:ff'],
  ])('run %d board %d → %s %s', (run, index, serial, mac) =>
    expect(simulatedIdentity(run, index)).toEqual({ serial, macs: [mac] }),
  );

  it('is the same for the same run, different across runs in the last 8 digits', () => {
    expect(simulatedIdentity(7, 3)).toEqual(simulatedIdentity(7, 3));
    expect(simulatedIdentity(7, 3).serial.slice(-8)).not.toBe(simulatedIdentity(8, 3).serial.slice(-8));
  });

  it('marks its serials as simulated, and only them', () => {
    expect(isSimulatedSerial(simulatedIdentity(2, 9).serial)).toBe(true);
    expect(isSimulatedSerial('10000000c0ffee42')).toBe(false);
  });

  it.each([
    [-1, 0],
    [0x10000, 0],
    [1, 0x10000],
    [1.5, 0],
  ])('refuses run %d board %d', (run, index) => expect(() => simulatedIdentity(run, index)).toThrow(RangeError));
});
