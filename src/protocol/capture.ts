import Type, { type Static } from 'typebox';
import { AGENT_API_VERSION, DeviceToken, EnrollReply, FailedReport } from './agent-api.js';
import { Timestamp } from './fleet.js';
import { ImageImportInput } from './images.js';
import { Sha256 } from './manifest.js';
import { SANITISE_STEPS, SanitiseStep } from './sanitise.js';

/**
 * Capture over the network (issue 14): an operator marks a board, and at its next enroll the board
 * is told to read its own card instead of writing one. Device API v1, additive:
 *
 *   POST /v1/enroll                          answers `{ apiVersion, capture }` instead of a plan
 *   GET  /v1/captures/:id/chunks             SHA-256 (raw) of every chunk the server already holds
 *   PUT  /v1/captures/:id/chunks/:sha256?index=N  one chunk, zstd-compressed, read at index N (optional);
 *                                            X-Stored-Sha256 names the body's hash
 *   POST /v1/captures/:id/result             the layout (success) or why the board could not (failed)
 *
 * Every call after enroll carries the capture's token as `Authorization: Bearer`. The board says
 * nothing about what the image becomes (product, version, sanitising): the operator set that.
 */

export const CAPTURE_STATUSES = ['pending', 'capturing', 'assembling', 'succeeded', 'failed', 'cancelled'] as const;
export const CaptureStatus = Type.Enum(CAPTURE_STATUSES);
export type CaptureStatus = (typeof CAPTURE_STATUSES)[number];

/** A capture request as operators see it. */
export const Capture = Type.Object({
  id: Type.Integer(),
  serial: Type.String(),
  product: Type.String(),
  version: Type.String(),
  notes: Type.Union([Type.String(), Type.Null()]),
  keep: Type.Array(SanitiseStep, { description: 'sanitise steps skipped' }),
  status: CaptureStatus,
  bytesReceived: Type.Integer({ description: 'raw bytes of the chunks the server holds' }),
  bytesTotal: Type.Union([Type.Integer(), Type.Null()], {
    description: 'used bytes the board reads; known once it started',
  }),
  imageId: Type.Union([Type.Integer(), Type.Null()], { description: 'the image version made, once succeeded' }),
  error: Type.Union([Type.String(), Type.Null()]),
  sanitiseReport: Type.Union([Type.Unknown(), Type.Null()], {
    description: 'what sanitising changed, step by step (the sanitiser report), once assembled',
  }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Capture = Static<typeof Capture>;

/** What an operator asks for: `rpi-deploy image capture --serial S --product P --version V`. */
export const CaptureRequestInput = Type.Object(
  {
    serial: Type.String({ minLength: 1, maxLength: 32 }),
    product: ImageImportInput.properties.product,
    version: ImageImportInput.properties.version,
    notes: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    keep: Type.Optional(Type.Array(SanitiseStep, { maxItems: SANITISE_STEPS.length, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type CaptureRequestInput = Static<typeof CaptureRequestInput>;

/** The enroll answer that sends a board to capture its card. */
export const CaptureOrder = Type.Object({
  apiVersion: Type.Literal(AGENT_API_VERSION),
  capture: Type.Object({
    id: Type.Integer({ minimum: 1 }),
    /** Secret for every later call of this capture; shown once, stored hashed. */
    token: DeviceToken,
    /** The importer's chunk size: the board cuts the card at the same boundaries. */
    chunkSizeBytes: Type.Integer({ minimum: 4096 }),
  }),
});
export type CaptureOrder = Static<typeof CaptureOrder>;

/** What enroll answers: a deployment to write, or a capture to make. */
export const EnrollAnswer = Type.Union([EnrollReply, CaptureOrder]);
export type EnrollAnswer = Static<typeof EnrollAnswer>;

export const CaptureChunkList = Type.Object({ chunks: Type.Array(Sha256) });
export type CaptureChunkList = Static<typeof CaptureChunkList>;

/** Bound on the chunks of one capture: 64 GiB of 4 MiB chunks. */
export const CAPTURE_CHUNKS_MAX = 16384;

export const CaptureResult = Type.Union([
  Type.Object(
    {
      status: Type.Literal('success'),
      /** Raw image size: the end of the last partition (MBR), or the whole card (GPT keeps a backup at its end). */
      sizeBytes: Type.Integer({ minimum: 512 }),
      /** Every chunk the board read, by index (offset = index × chunk size); the rest of the image is zeros. */
      chunks: Type.Array(Type.Object({ index: Type.Integer({ minimum: 0 }), sha256: Sha256 }), {
        maxItems: CAPTURE_CHUNKS_MAX,
      }),
    },
    { additionalProperties: false },
  ),
  FailedReport,
]);
export type CaptureResult = Static<typeof CaptureResult>;

export const CaptureResultReply = Type.Object({ status: CaptureStatus });
export type CaptureResultReply = Static<typeof CaptureResultReply>;

/** Header of a chunk upload: SHA-256 of the (zstd) body, checked before anything is stored. */
export const STORED_SHA256_HEADER = 'x-stored-sha256';

export const capturePaths = {
  chunks: (captureId: number) => `/v1/captures/${captureId}/chunks`,
  /** `index`: where the board read the chunk, so the server writes it into the image as it arrives. */
  chunk: (captureId: number, sha256: string, index: number) =>
    `/v1/captures/${captureId}/chunks/${sha256}?index=${index}`,
  result: (captureId: number) => `/v1/captures/${captureId}/result`,
};
