import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import Type from 'typebox';
import type { ErrorBody, HttpServer } from '../lib/http-server.js';
import type { RuntimeBundleFile } from '../netboot/index.js';

export interface RuntimeRouteDeps {
  /** The runtime bundle of the current `netboot build`, if `sha256` names it. */
  runtimeBundle(sha256: string): Promise<RuntimeBundleFile | undefined>;
}

const Params = Type.Object({ file: Type.String({ pattern: '^[0-9a-f]{64}\\.tar(\\.gz)?$' }) });

/**
 * The gzip copy of a bundle, next to it (`<bundle>.gz`), made once on the first request: Node's
 * binary shrinks about 2.7×, and every netbooted board pulls the bundle over the server's link
 * before its first image byte. gzip because stage 1's busybox has gunzip (and so does every
 * Node the server runs on). Boards asking at once share one compression.
 */
function gzipOf(bundle: RuntimeBundleFile, making: Map<string, Promise<string>>): Promise<string> {
  const target = `${bundle.path}.gz`;
  let done = making.get(target);
  if (!done) {
    done = (async () => {
      // No copy yet (stat fails) is the one case that makes it; any other error surfaces when it is written.
      if (
        await stat(target).then(
          () => true,
          () => false,
        )
      )
        return target;
      const partial = `${target}.partial`;
      try {
        await pipeline(createReadStream(bundle.path), createGzip({ level: 6 }), createWriteStream(partial));
        await rename(partial, target);
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
      return target;
    })();
    making.set(target, done);
    done.catch(() => making.delete(target));
  }
  return done;
}

/**
 * `GET /v1/runtime/<sha256>.tar`: the runtime bundle (Node for linux-arm64 + the agent) that
 * stage 1 downloads after its kernel named the SHA-256 (BOOT_PARAMS.runtime); `<sha256>.tar.gz`:
 * the same, gzip-compressed (what stage 1 fetches; it checks the SHA-256 of the tar it unpacks).
 * Addressed by content, so a board never gets a bundle other than the one its command line names.
 */
export function registerRuntimeRoutes(app: HttpServer, deps: RuntimeRouteDeps): void {
  const making = new Map<string, Promise<string>>();
  app.get('/v1/runtime/:file', { schema: { params: Params } }, async (req, reply) => {
    const sha256 = req.params.file.slice(0, 64);
    const bundle = await deps.runtimeBundle(sha256);
    if (!bundle) {
      const body: ErrorBody = {
        error: `No runtime bundle ${sha256}: the board booted from an older build; it reboots and gets the current one`,
        code: 'NOT_FOUND',
      };
      return reply.code(404).send(body);
    }
    if (req.params.file.endsWith('.gz')) {
      const path = await gzipOf(bundle, making);
      return reply
        .header('content-type', 'application/gzip')
        .header('content-length', String((await stat(path)).size))
        .header('etag', `"${bundle.sha256}.gz"`)
        .send(createReadStream(path));
    }
    return reply
      .header('content-type', 'application/x-tar')
      .header('content-length', String(bundle.sizeBytes))
      .header('etag', `"${bundle.sha256}"`)
      .send(createReadStream(bundle.path));
  });
}
