import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Session ids and API-token secrets: 256 random bits, shown to their owner once and stored only
 * as a SHA-256 hash (plain SHA-256 suffices for random secrets; passwords need scrypt).
 */
export function newSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/**
 * The CSRF token of a session, derived from its id (HMAC), so it needs no storage and changes
 * with every login; a page that can read it is same-origin by the browser's rules.
 */
export function csrfTokenOf(sessionId: string): string {
  return createHmac('sha256', sessionId).update('rpi-deploy csrf').digest('base64url');
}

/** Constant-time string comparison for secrets. */
export function secretsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
