import { createReadStream } from 'node:fs';
import Type from 'typebox';
import type { ErrorBody, HttpServer } from '../lib/http-server.js';
import type { RuntimeBundleFile } from '../netboot/index.js';

export interface RuntimeRouteDeps {
  /** The runtime bundle of the current `netboot build`, if `sha256` names it. */
  runtimeBundle(sha256: string): Promise<RuntimeBundleFile | undefined>;
}

const Params = Type.Object({ file: Type.String({ pattern: '^[0-9a-f]{64}\\.tar$' }) });

/**
 * `GET /v1/runtime/<sha256>.tar`: the runtime bundle (Node for linux-arm64 + the agent) that
 * stage 1 downloads after its kernel named the SHA-256 (BOOT_PARAMS.runtime). Addressed by
 * content, so a board never gets a bundle other than the one its command line names.
 */
export function registerRuntimeRoutes(app: HttpServer, deps: RuntimeRouteDeps): void {
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
    return reply
      .header('content-type', 'application/x-tar')
      .header('content-length', String(bundle.sizeBytes))
      .header('etag', `"${bundle.sha256}"`)
      .send(createReadStream(bundle.path));
  });
}
