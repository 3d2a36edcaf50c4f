import { describe, expect, it } from 'vitest';
import { FleetError } from './errors.js';
import { parseMac, parsePattern, parseProductCode, parseSerial, parseVenueCode, renderHostname } from './hostname.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof FleetError ? e.code : 'NOT_A_FLEET_ERROR';
  }
  return undefined;
}

describe('parseVenueCode', () => {
  it.each([
    ['CORO', 'CORO'],
    ['coro', 'CORO'],
    [' Ar1a ', 'AR1A'],
    ['0000', '0000'],
  ])('accepts %j as %s', (input, want) => expect(parseVenueCode(input)).toBe(want));

  it.each([
    ['COR'],
    ['CORON'],
    [''],
    ['CO-O'],
    ["CO'O"],
    ['ÇORO'],
    ['CO O'],
    [1234],
    [null],
    [undefined],
    [{}],
    ["'; DROP TABLE venues; --"],
  ])('refuses %j with FLEET_VENUE_CODE_INVALID', (input) =>
    expect(codeOf(() => parseVenueCode(input))).toBe('FLEET_VENUE_CODE_INVALID'),
  );
});

describe('parseProductCode', () => {
  it.each([
    ['KXP2', 'KXP2'],
    ['rxp2', 'RXP2'],
    ['AB', 'AB'],
  ])('accepts %j', (input, want) => expect(parseProductCode(input)).toBe(want));
  it.each([['K'], ['2KXP'], ['KXP2-'], ['ABCDEFGHI'], [42]])('refuses %j', (input) =>
    expect(codeOf(() => parseProductCode(input))).toBe('FLEET_PRODUCT_CODE_INVALID'),
  );
});

describe('parseSerial', () => {
  it.each([
    ['9ffefdef', '9ffefdef', '9ffefdef'],
    ['ABC12345', 'abc12345', 'abc12345'],
    ['0x10000000ABCDEF01', '10000000abcdef01', 'abcdef01'],
    ['9d00ce41d137e638', '9d00ce41d137e638', 'd137e638'],
  ])('parses %j', (input, serial, serial8) => expect(parseSerial(input)).toEqual({ serial, serial8 }));

  it.each([['1234567'], ['12345678901234567'], ['ghijklmn'], [''], [12345678], ['abc 1234']])('refuses %j', (input) =>
    expect(codeOf(() => parseSerial(input))).toBe('FLEET_SERIAL_INVALID'),
  );
});

describe('parseMac', () => {
  it('normalises case and separators', () => expect(parseMac('2C-CF-67-01-02-0A')).toBe('2c:cf:67:01:02:0a'));
  it.each([['2c:cf:67:01:02'], ['zz:cf:67:01:02:03'], ['2ccf67010203']])('refuses %j', (input) =>
    expect(codeOf(() => parseMac(input))).toBe('FLEET_MAC_INVALID'),
  );
});

describe('hostname patterns', () => {
  it.each([
    ['KXP2-{venue}-{number:3}', { kind: 'pool', width: 3 }],
    ['RXP2-{venue}-{serial}', { kind: 'serial' }],
    ['{product}{venue}{number}', { kind: 'pool', width: 1 }],
  ])('parsePattern(%s)', (pattern, want) => expect(parsePattern(pattern)).toEqual(want));

  it.each([
    ['KXP2-{number:3}', 'no venue'],
    ['KXP2-{venue}', 'no number or serial'],
    ['KXP2-{venue}-{number:3}-{serial}', 'two sources'],
    ['KXP2_{venue}-{number:3}', 'underscore'],
    ['KXP2-{venue}-{number:9}', 'width too large'],
    ['KXP2-{venue}-{nmbr}', 'unknown placeholder'],
    ['-{venue}-{number:3}', 'leading hyphen'],
    [`${'A'.repeat(60)}-{venue}-{number:3}`, 'too long'],
  ])('refuses %s (%s)', (pattern) => expect(codeOf(() => parsePattern(pattern))).toBe('FLEET_PATTERN_INVALID'));

  it.each([
    ['KXP2-{venue}-{number:3}', { venue: 'CORO', product: 'KXP2', number: 1 }, 'KXP2-CORO-001'],
    ['KXP2-{venue}-{number:3}', { venue: 'CORO', product: 'KXP2', number: 1234 }, 'KXP2-CORO-1234'],
    ['RXP2-{venue}-{serial}', { venue: 'CORO', product: 'RXP2', serial8: 'abc12345' }, 'RXP2-CORO-ABC12345'],
    ['{product}-{venue}-{number:2}', { venue: 'ARIA', product: 'XY1', number: 7 }, 'XY1-ARIA-07'],
  ])('renderHostname(%s, %j) = %s', (pattern, parts, want) => expect(renderHostname(pattern, parts)).toBe(want));
});
