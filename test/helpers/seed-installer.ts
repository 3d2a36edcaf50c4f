import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/**
 * A client that speaks to the server exactly as the seed's on-board installer (`pi_installer.py`,
 * its Phase 8) does, written from the facts of issue 11, with its hardware calls replaced by a
 * file for the card:
 *
 *   POST /api/status  starting (hostname null: the config has not named the board yet)
 *   POST /api/config  product_type, venue_code (null without --venue), serial_number, mac_address
 *                     → reads version, image_url, image_size, image_checksum; a missing key is fatal
 *   POST /api/status  downloading → GET image_url onto the card → verifying → customizing → success
 *
 * Any failure after `starting` is reported as `failed` with the reason in `error_message`, and the
 * run ends, as the installer's does. Status reports carry `serial` (not `serial_number`),
 * `mac_address`, `message`, `error_message` and `timestamp` (Unix seconds, a float).
 */

export interface SeedInstallerOptions {
  server: string;
  product: string;
  /** The installer's `--venue`; omitted, it sends `venue_code: null`. */
  venue?: string;
  /** What /proc/cpuinfo gave; `unknown` when it has no serial. */
  serial: string;
  mac: string;
  /** The file standing in for /dev/mmcblk0. */
  cardPath: string;
  /** Capacity of the card; an image larger than it fails the run, as on a board. */
  cardBytes?: number;
}

export type SeedStatusWord = 'starting' | 'downloading' | 'verifying' | 'customizing' | 'success' | 'failed';

export interface SeedRun {
  ok: boolean;
  /** The failure the installer reported (its `error_message`). */
  error?: string;
  config?: Record<string, unknown>;
  /** Each status report sent, with the server's answer. */
  reports: { status: SeedStatusWord; sent: Record<string, unknown>; httpStatus: number; reply: unknown }[];
  /** What was written to the card, checked against image_size and image_checksum. */
  written?: { bytes: number; sha256: string };
}

/** The keys the installer reads from the config; the seed's installer stops on the first one missing. */
const CONFIG_KEYS = ['version', 'image_url', 'image_size', 'image_checksum'] as const;

export async function runSeedInstaller(o: SeedInstallerOptions): Promise<SeedRun> {
  const run: SeedRun = { ok: false, reports: [] };
  let hostname: string | null = null;

  async function report(status: SeedStatusWord, message: string, errorMessage: string | null = null): Promise<void> {
    const sent = {
      status,
      hostname,
      serial: o.serial,
      mac_address: o.mac,
      message,
      error_message: errorMessage,
      timestamp: Date.now() / 1000,
    };
    const res = await fetch(`${o.server}/api/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sent),
    });
    run.reports.push({ status, sent, httpStatus: res.status, reply: await res.json() });
  }

  await report('starting', 'Installation starting');
  try {
    const res = await fetch(`${o.server}/api/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        product_type: o.product,
        venue_code: o.venue ?? null,
        serial_number: o.serial,
        mac_address: o.mac,
      }),
    });
    const config = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`Failed to get config: HTTP ${res.status}: ${String(config['error'])}`);
    for (const key of CONFIG_KEYS) if (!(key in config)) throw new Error(`Failed to get config: '${key}'`);
    run.config = config;
    hostname = config['hostname'] as string;
    const size = config['image_size'] as number;

    await report('downloading', `Downloading ${String(config['image_url'])}`);
    if (o.cardBytes !== undefined && size > o.cardBytes)
      throw new Error(`Image (${size} bytes) is larger than the SD card (${o.cardBytes} bytes)`);
    const image = await fetch(String(config['image_url']));
    if (image.status !== 200 || !image.body) throw new Error(`Download failed: HTTP ${image.status}`);
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(image.body as WebReadableStream<Uint8Array>), tap, createWriteStream(o.cardPath));
    run.written = { bytes, sha256: hash.digest('hex') };

    await report('verifying', 'Verifying the written image');
    if (bytes !== size) throw new Error(`Size mismatch: wrote ${bytes} bytes, expected ${size}`);
    if (run.written.sha256 !== config['image_checksum'])
      throw new Error(`Checksum mismatch: ${run.written.sha256} != ${String(config['image_checksum'])}`);

    await report('customizing', `Setting hostname ${hostname}`);
    await report('success', 'Installation complete');
    run.ok = true;
  } catch (err) {
    run.error = (err as Error).message;
    await report('failed', 'Installation failed', run.error);
  }
  return run;
}
