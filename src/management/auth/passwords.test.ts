import { randomBytes, scryptSync } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HASH_THREAD_NICE, hashPassword, MAX_QUEUED_HASHES, verifyPassword } from './passwords.js';

/** A stored hash with cheaper parameters than PARAMS (the stored form names its own), so many guesses stay quick. */
function cheapHash(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N: 1 << 14, r: 8, p: 1 });
  return ['scrypt', 1 << 14, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
}

describe('passwords (scrypt)', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$2\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
  });

  it.each([[''], ['plain'], ['scrypt$1$2$3'], ['bcrypt$x$y$z$a$b']])(
    'never matches a malformed stored hash %j',
    async (stored) => {
      expect(await verifyPassword('anything', stored)).toBe(false);
    },
  );

  it('hashes off the thread pool file reads use: a read issued behind 16 guesses finishes before most of them', async () => {
    const stored = cheapHash('correct horse battery');
    let verified = 0;
    const guesses = Array.from({ length: 16 }, (_, i) => verifyPassword(`guess ${i}`, stored).then(() => verified++));
    await readFile(fileURLToPath(import.meta.url));
    const verifiedWhenRead = verified;
    await Promise.all(guesses);
    // On libuv's pool (4 threads) the read waited for 3 rounds of 4 hashes: 12 or more were done.
    expect(verifiedWhenRead).toBeLessThan(4);
  });

  it('refuses hashes past its queue at once with AUTH_BUSY (503, retry later), and finishes the rest', async () => {
    const stored = cheapHash('correct horse battery');
    const extra = 5;
    const results = await Promise.allSettled(
      Array.from({ length: MAX_QUEUED_HASHES + 1 + extra }, (_, i) => verifyPassword(`guess ${i}`, stored)),
    );
    const refused = results
      .filter((r) => r.status === 'rejected')
      .map((r) => r.reason as { code: string; details: Record<string, unknown> });
    expect(refused).toHaveLength(extra);
    for (const e of refused) expect(e).toMatchObject({ code: 'AUTH_BUSY', details: { retryAfterSeconds: 2 } });
    expect(results.filter((r) => r.status === 'fulfilled').every((r) => r.value === false)).toBe(true);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
  });

  it.runIf(process.platform === 'linux')(
    'hashes on a thread at the lowest priority; the event loop keeps its own',
    async () => {
      await hashPassword('correct horse battery');
      const niceOf = (tid: string) =>
        Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
      const threads = readdirSync('/proc/self/task');
      expect(niceOf(String(process.pid))).toBeLessThan(HASH_THREAD_NICE);
      expect(threads.filter((t) => niceOf(t) === HASH_THREAD_NICE)).toHaveLength(1);
    },
  );
});
