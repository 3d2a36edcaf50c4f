import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { CaptureService } from '../images/index.js';
import type { HttpServer } from '../lib/http-server.js';
import {
  CAPTURE_CHUNKS_MAX,
  CaptureChunkList,
  CaptureResult,
  CaptureResultReply,
  STORED_SHA256_HEADER,
} from '../protocol/capture.js';
import { DEFAULT_CHUNK_SIZE_BYTES } from '../protocol/manifest.js';
import { authenticatedCapture } from './auth.js';
import { DeviceApiError } from './errors.js';

export interface CaptureRouteDeps {
  captures: CaptureService;
}

/** A chunk body: one zstd frame, at most a chunk plus zstd's worst-case growth. */
const CHUNK_BODY_LIMIT_BYTES = DEFAULT_CHUNK_SIZE_BYTES + 64 * 1024;
/** The layout lists up to CAPTURE_CHUNKS_MAX chunks (index and SHA-256 each): about 1.4 MB. */
const RESULT_BODY_LIMIT_BYTES = 2 * 1024 * 1024;
const CHUNK_CONTENT_TYPE = 'application/zstd';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const CaptureParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const ChunkParams = Type.Object({ id: Type.Integer({ minimum: 1 }), sha256: Sha256 });
/** Where the board read the chunk; boards before it was sent leave their chunks to be placed at the end. */
const ChunkQuery = Type.Object({ index: Type.Optional(Type.Integer({ minimum: 0, maximum: CAPTURE_CHUNKS_MAX - 1 })) });

/**
 * A board uploads its own card for the capture it was given at enroll. Its token picks the
 * capture; nothing it sends chooses what the image becomes (the operator did) or reaches a path.
 */
export function registerCaptureRoutes(app: HttpServer, deps: CaptureRouteDeps): void {
  const { captures } = deps;

  const authenticated = (req: FastifyRequest, captureId: number) => authenticatedCapture(req, captures, captureId);

  app.addContentTypeParser(
    CHUNK_CONTENT_TYPE,
    { parseAs: 'buffer', bodyLimit: CHUNK_BODY_LIMIT_BYTES },
    (_req, body, done) => done(null, body),
  );

  app.get(
    '/v1/captures/:id/chunks',
    { schema: { params: CaptureParams, response: { 200: CaptureChunkList } } },
    async (req) => {
      await authenticated(req, req.params.id);
      return { chunks: await captures.storedChunks(req.params.id) };
    },
  );

  app.put(
    '/v1/captures/:id/chunks/:sha256',
    {
      bodyLimit: CHUNK_BODY_LIMIT_BYTES,
      schema: { params: ChunkParams, querystring: ChunkQuery, response: { 200: CaptureChunkList } },
    },
    async (req) => {
      await authenticated(req, req.params.id);
      const stored = req.headers[STORED_SHA256_HEADER];
      if (typeof stored !== 'string' || !/^[0-9a-f]{64}$/.test(stored) || !Buffer.isBuffer(req.body))
        throw new DeviceApiError(
          'DEVICE_CAPTURE_CHUNK_MALFORMED',
          `A chunk is sent as ${CHUNK_CONTENT_TYPE} with its SHA-256 in ${STORED_SHA256_HEADER}`,
          {},
        );
      await captures.receiveChunk(req.params.id, req.params.sha256, stored, req.body, req.query.index);
      return { chunks: [req.params.sha256] };
    },
  );

  app.post(
    '/v1/captures/:id/result',
    {
      bodyLimit: RESULT_BODY_LIMIT_BYTES,
      schema: { params: CaptureParams, body: CaptureResult, response: { 200: CaptureResultReply } },
    },
    async (req) => {
      await authenticated(req, req.params.id);
      return { status: (await captures.finish(req.params.id, req.body)).status };
    },
  );
}
