import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { DeploymentService } from '../fleet/index.js';
import type { ImageService } from '../images/index.js';
import type { HttpServer } from '../lib/http-server.js';
import { CHUNK_ENCODING_ZSTD } from '../protocol/agent-api.js';
import { Manifest } from '../protocol/manifest.js';
import { authenticatedDeployment } from './auth.js';
import { DeviceApiError } from './errors.js';
import { sendBytes, short } from './send-bytes.js';
import { isAppError } from '../lib/errors.js';

export interface ChunkRouteDeps {
  deployments: DeploymentService;
  images: ImageService;
}

const DeploymentParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const ChunkParams = Type.Object({ id: Type.Integer({ minimum: 1 }), index: Type.Integer({ minimum: 0 }) });

/** Whether an Accept-Encoding header accepts zstd (and does not refuse it with q=0). */
export function acceptsZstd(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part
      .trim()
      .split(';')
      .map((s) => s.trim());
    const q = params.find((p) => p.startsWith('q='));
    return coding?.toLowerCase() === CHUNK_ENCODING_ZSTD && (!q || Number(q.slice(2)) > 0);
  });
}

/**
 * The image of a deployment, chunk by chunk. A board reads only its own deployment's image: the
 * token picks the deployment, the deployment picks the image, the index picks the chunk; no part
 * of a path reaches the file system.
 */
export function registerChunkRoutes(app: HttpServer, deps: ChunkRouteDeps): void {
  const { deployments, images } = deps;

  /** The token must be the deployment's, and the deployment still open (a token ends with it). */
  async function imageOf(req: FastifyRequest, deploymentId: number): Promise<{ imageId: number; manifest: Manifest }> {
    await authenticatedDeployment(req, deployments, deploymentId);
    return deployments.imageOf(deploymentId);
  }

  app.get(
    '/v1/deployments/:id/manifest',
    { schema: { params: DeploymentParams, response: { 200: Manifest } } },
    async (req) => {
      return (await imageOf(req, req.params.id)).manifest;
    },
  );

  app.get('/v1/deployments/:id/chunks/:index', { schema: { params: ChunkParams } }, async (req, reply) => {
    const { imageId, manifest } = await imageOf(req, req.params.id);
    const chunk = manifest.chunks[req.params.index];
    if (!chunk)
      throw new DeviceApiError(
        'DEVICE_CHUNK_UNKNOWN',
        `The image has ${manifest.chunks.length} chunks; there is no chunk ${req.params.index}`,
        { index: req.params.index },
      );
    reply.header('vary', 'accept-encoding');
    if (acceptsZstd(req.headers['accept-encoding'])) {
      reply.header('content-encoding', CHUNK_ENCODING_ZSTD);
      return sendBytes(req, reply, {
        totalBytes: chunk.storedBytes,
        etag: `"${chunk.sha256}.zst"`,
        async open(range) {
          const read = await images.readChunk(chunk.sha256, range, chunk.storedSha256).catch((err: unknown) => {
            // The range was computed from the manifest: refused, it means the stored file is shorter.
            throw isAppError(err) && err.code === 'IMAGE_RANGE_INVALID' ? short(-1, chunk.storedBytes) : err;
          });
          if (read.totalBytes !== chunk.storedBytes) {
            read.release();
            throw short(read.totalBytes, chunk.storedBytes);
          }
          return read;
        },
      });
    }
    // Decompressed here for clients without zstd; one chunk is loaded whole so a damaged stored chunk
    // is answered with an error status, not with a connection cut after the headers.
    return sendBytes(req, reply, {
      totalBytes: chunk.sizeBytes,
      etag: `"${chunk.sha256}"`,
      bufferWhole: true,
      open: (range) =>
        images.openRaw(
          imageId,
          range
            ? { offsetBytes: chunk.offsetBytes + range.offsetBytes, lengthBytes: range.lengthBytes }
            : { offsetBytes: chunk.offsetBytes, lengthBytes: chunk.sizeBytes },
        ),
    });
  });
}
