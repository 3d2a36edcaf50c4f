import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ManagementError } from '../errors.js';

/**
 * Password hashing with scrypt (node:crypto). The stored form names its parameters
 * (`scrypt$N$r$p$salt$hash`) so they can be raised later without breaking old hashes.
 * N = 2^15, r = 8 costs 32 MiB and some tens of milliseconds per guess (OWASP's scrypt minimum is
 * N = 2^17 with r = 8 at p = 1 or N = 2^15 with higher p; p = 2 keeps memory at 32 MiB).
 *
 * Hashes run one at a time on a worker thread of their own, never on libuv's thread pool: that
 * pool (4 threads) also does every file read of the device side, and a flood of sign-ins once
 * held image GETs for a minute (issue 12). One thread also caps what hashing takes from the
 * boards to one core, at the lowest priority (on Linux). A bounded queue waits in front of it;
 * past that, a sign-in is refused with AUTH_BUSY (503) at once instead of waiting behind guesses.
 */
const PARAMS = { N: 1 << 15, r: 8, p: 2 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Hashes waiting for the worker: at a tenth of a second or so each, the last waits a few seconds. */
export const MAX_QUEUED_HASHES = 32;

interface ScryptJob {
  password: string;
  salt: Buffer;
  params: { N: number; r: number; p: number };
  resolve(key: Buffer): void;
  reject(err: Error): void;
}

/** Nice value of the hashing thread: below everything else, so the boards' event loop always goes first. */
export const HASH_THREAD_NICE = 19;

// CommonJS source evaluated in the worker, so it runs the same from dist/ and from the TypeScript sources under test.
// Linux sets a nice value per thread (setpriority on the thread id); elsewhere there is no thread
// id to give, and hashing keeps the process's priority, still off the pool and one at a time.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
if (process.platform === 'linux') {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, ${HASH_THREAD_NICE});
}
parentPort.on('message', ({ password, salt, params }) => {
  try {
    const key = scryptSync(password, Buffer.from(salt), ${KEY_BYTES}, { ...params, maxmem: 256 * params.N * params.r });
    parentPort.postMessage({ key });
  } catch (err) {
    parentPort.postMessage({ error: err.message });
  }
});`;

/**
 * The one hashing thread of this process. Process-wide on purpose, like the libuv pool it stands in
 * for: the cores it guards are the process's, however many user services exist. It is started on
 * the first hash and holds the process open only while a hash is in hand, so a command that hashed
 * once still exits when its work is done.
 */
const queue: ScryptJob[] = [];
let running: ScryptJob | undefined;
let worker: Worker | undefined;

function startWorker(): Worker {
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.on('message', (m: { key?: Uint8Array; error?: string }) => {
    const job = running!;
    running = undefined;
    if (m.key) job.resolve(Buffer.from(m.key));
    else job.reject(new Error(`scrypt failed: ${m.error}`));
    next();
  });
  // A dead worker (out of memory, an uncaught error) fails the hash in hand; the next hash starts a new one.
  let failure: Error | undefined;
  w.on('error', (err) => (failure = err));
  w.on('exit', (code) => {
    worker = undefined;
    running?.reject(failure ?? new Error(`the password hashing thread stopped (exit code ${code})`));
    running = undefined;
    next();
  });
  return w;
}

function next(): void {
  if (running) return;
  running = queue.shift();
  if (!running) {
    worker?.unref();
    return;
  }
  worker ??= startWorker();
  worker.ref();
  const { password, salt, params } = running;
  worker.postMessage({ password, salt, params });
}

function scrypt(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  if (queue.length >= MAX_QUEUED_HASHES) {
    return Promise.reject(
      new ManagementError('AUTH_BUSY', 'The server is busy checking other sign-ins; try again in a few seconds', {
        retryAfterSeconds: 2,
        queued: queue.length,
      }),
    );
  }
  return new Promise((resolve, reject) => {
    queue.push({ password: password.normalize('NFC'), salt, params, resolve, reject });
    next();
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `password` matches `stored`; a malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
