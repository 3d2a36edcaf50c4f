import { FleetError } from './errors.js';
import type { NamingKind } from '../protocol/fleet.js';
import { normaliseMac } from '../lib/mac.js';

/**
 * Pure naming rules: venue and product codes, board serials and MACs, and the hostname patterns
 * that turn a pool number or a serial into a name (`KXP2-CORO-001`, `RXP2-CORO-9FFEFDEF`).
 */

/** Pool numbers run 0–999999; padding in a pattern is a minimum width. */
export const POOL_NUMBER_MAX = 999_999;
const HOSTNAME_MAX_LENGTH = 63;

/** Venue codes are 4 characters A–Z/0–9; lower-case input is accepted and stored upper-case. */
export function parseVenueCode(input: unknown): string {
  const code = typeof input === 'string' ? input.trim().toUpperCase() : '';
  if (!/^[A-Z0-9]{4}$/.test(code)) {
    throw new FleetError(
      'FLEET_VENUE_CODE_INVALID',
      `Venue code ${JSON.stringify(input)} is invalid: use exactly 4 characters A–Z or 0–9, e.g. CORO`,
      { input: String(input) },
    );
  }
  return code;
}

/** Product codes: a letter, then 1–7 letters or digits (KXP2, RXP2). */
export function parseProductCode(input: unknown): string {
  const code = typeof input === 'string' ? input.trim().toUpperCase() : '';
  if (!/^[A-Z][A-Z0-9]{1,7}$/.test(code)) {
    throw new FleetError(
      'FLEET_PRODUCT_CODE_INVALID',
      `Product code ${JSON.stringify(input)} is invalid: use 2–8 characters A–Z or 0–9 starting with a letter, e.g. KXP2`,
      { input: String(input) },
    );
  }
  return code;
}

/** A board serial: 8–16 hex digits (a Pi 5 reports 16), stored lower-case. */
export interface Serial {
  serial: string;
  /** The low 32 bits as 8 lower-case hex digits: the bootloader's TFTP prefix. */
  serial8: string;
}

export function parseSerial(input: unknown): Serial {
  const raw = typeof input === 'string' ? input.trim().toLowerCase().replace(/^0x/, '') : '';
  if (!/^[0-9a-f]{8,16}$/.test(raw)) {
    throw new FleetError(
      'FLEET_SERIAL_INVALID',
      `Serial number ${JSON.stringify(input)} is invalid: expected 8–16 hex digits as in /proc/cpuinfo, e.g. 9ffefdef`,
      { input: String(input) },
    );
  }
  return { serial: raw, serial8: raw.slice(-8) };
}

/** A MAC address with `:` or `-` separators, returned lower-case with `:`. */
export function parseMac(input: unknown): string {
  const mac = typeof input === 'string' ? normaliseMac(input) : null;
  if (mac === null) {
    throw new FleetError(
      'FLEET_MAC_INVALID',
      `MAC address ${JSON.stringify(input)} is invalid: expected six hex pairs, e.g. 2c:cf:67:01:02:03`,
      {
        input: String(input),
      },
    );
  }
  return mac;
}

/** What a hostname pattern needs to produce a name. */
export type NamingRule = { kind: 'pool'; width: number } | { kind: 'serial' };

type Token = { literal: string } | { field: 'venue' | 'product' | 'serial' } | { field: 'number'; width: number };

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  const re = /\{([a-z]+)(?::([0-9]+))?\}|([A-Za-z0-9-]+)|(.)/g;
  for (const m of pattern.matchAll(re)) {
    const [, field, width, literal, bad] = m;
    if (literal) tokens.push({ literal });
    else if (bad !== undefined)
      throw patternError(pattern, `character ${JSON.stringify(bad)} cannot appear in a hostname`);
    else if (field === 'number') {
      const w = width === undefined ? 1 : Number(width);
      if (w < 1 || w > 6) throw patternError(pattern, '{number:N} takes a width from 1 to 6');
      tokens.push({ field: 'number', width: w });
    } else if ((field === 'venue' || field === 'product' || field === 'serial') && width === undefined) {
      tokens.push({ field });
    } else throw patternError(pattern, `unknown placeholder {${field}${width ? `:${width}` : ''}}`);
  }
  return tokens;
}

function patternError(pattern: string, why: string): FleetError {
  return new FleetError(
    'FLEET_PATTERN_INVALID',
    `Hostname pattern ${JSON.stringify(pattern)} is invalid: ${why}. Use letters, digits, "-", {venue}, {product} and exactly one of {number:N} or {serial}, e.g. "KXP2-{venue}-{number:3}"`,
    { pattern },
  );
}

/** Validates a pattern and says whether names come from a pool or from the serial. */
export function parsePattern(pattern: string): NamingRule {
  const tokens = tokenize(pattern);
  const fields = tokens.flatMap((t) => ('field' in t ? [t] : []));
  if (!fields.some((f) => f.field === 'venue'))
    throw patternError(pattern, 'it must contain {venue} so names stay unique per venue');
  const sources = fields.filter((f) => f.field === 'number' || f.field === 'serial');
  if (sources.length !== 1) throw patternError(pattern, 'it needs exactly one {number:N} or {serial}');
  const source = sources[0]!;
  const rule: NamingRule = source.field === 'number' ? { kind: 'pool', width: source.width } : { kind: 'serial' };
  // Render the longest possible name once, so a pattern that could overflow a DNS label is refused now.
  const longest = renderTokens(tokens, {
    venue: 'XXXX',
    product: 'XXXXXXXX',
    number: POOL_NUMBER_MAX,
    serial8: 'ffffffff',
  });
  if (longest.length > HOSTNAME_MAX_LENGTH || /^-|-$/.test(longest)) {
    throw patternError(
      pattern,
      `names must be at most ${HOSTNAME_MAX_LENGTH} characters and must not start or end with "-"`,
    );
  }
  return rule;
}

export function namingKind(pattern: string): NamingKind {
  return parsePattern(pattern).kind;
}

export interface NameParts {
  venue: string;
  product: string;
  number?: number;
  /** Low 8 hex digits of the serial; rendered upper-case. */
  serial8?: string;
}

/** Renders a validated pattern: `KXP2-{venue}-{number:3}` + CORO + 7 → `KXP2-CORO-007`. */
export function renderHostname(pattern: string, parts: NameParts): string {
  return renderTokens(tokenize(pattern), parts);
}

function renderTokens(tokens: Token[], parts: NameParts): string {
  return tokens
    .map((t) => {
      if ('literal' in t) return t.literal;
      switch (t.field) {
        case 'venue':
          return parts.venue;
        case 'product':
          return parts.product;
        case 'serial':
          if (parts.serial8 === undefined) throw new Error('renderHostname: serial8 missing for a serial pattern');
          return parts.serial8.toUpperCase();
        case 'number':
          if (parts.number === undefined) throw new Error('renderHostname: number missing for a pool pattern');
          return String(parts.number).padStart(t.width, '0');
      }
    })
    .join('');
}
