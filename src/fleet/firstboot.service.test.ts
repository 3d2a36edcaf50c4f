import { describe, expect, it } from 'vitest';
import { wpaPsk } from './firstboot.service.js';

describe('wpaPsk', () => {
  // IEEE 802.11i-2004 Annex H.4 test vectors.
  it.each([
    ['IEEE', 'password', 'f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e'],
    ['ThisIsASSID', 'ThisIsAPassword', '0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af'],
  ])('SSID %s, passphrase %s → the standard PSK', (ssid, passphrase, psk) =>
    expect(wpaPsk(ssid, passphrase)).toBe(psk),
  );
});
