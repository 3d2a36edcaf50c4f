import { describe, expect, it } from 'vitest';
import { fuzzPackets } from '../../../test/helpers/dhcp-fuzz.js';
import { decodeDhcp, DhcpDecodeError, encodeDhcp } from './codec.js';

/** The codec against 20 000 random, truncated and mutated packets: only typed errors, and what decodes re-encodes to the same message. */
describe('DHCP codec fuzz', () => {
  it('throws nothing but DhcpDecodeError and round-trips whatever it accepts', () => {
    let decoded = 0;
    const started = Date.now();
    for (const packet of fuzzPackets(20261122, 20_000)) {
      let msg;
      try {
        msg = decodeDhcp(packet);
      } catch (e) {
        expect(e).toBeInstanceOf(DhcpDecodeError);
        continue;
      }
      decoded++;
      let again: Buffer;
      try {
        again = encodeDhcp(msg, 1500);
      } catch (e) {
        // Random options can exceed even an overloaded message; that must be the documented RangeError.
        expect(e).toBeInstanceOf(RangeError);
        continue;
      }
      const back = decodeDhcp(again);
      expect({ ...back, options: [...back.options] }).toEqual({
        ...msg,
        options: [...msg.options].filter(([k]) => k !== 52 && k !== 0 && k !== 255),
      });
    }
    expect(decoded).toBeGreaterThan(3000);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
