import { createHash, randomBytes } from 'node:crypto';

/**
 * Device bearer tokens are 256 random bits, shown once; only their SHA-256 is stored. A hash
 * without salt is enough for a random secret of that size (nothing to guess), and it allows
 * lookup by hash.
 */
const TOKEN_BYTES = 32;

export function newDeviceToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export function deviceTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
