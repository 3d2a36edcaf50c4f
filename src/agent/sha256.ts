import { webcrypto } from 'node:crypto';

/**
 * SHA-256 as lower-case hex, computed on the libuv thread pool (WebCrypto's digest is
 * asynchronous), so hashing gigabytes does not hold the event loop that receives and writes.
 */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', data)).toString('hex');
}
