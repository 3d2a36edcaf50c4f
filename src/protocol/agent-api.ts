import Type, { type Static } from 'typebox';
import { Customisation } from './firstboot.js';
import { DeploymentStatus } from './fleet.js';
import { ChangedChunks, ImagingSettings, WriteStats } from './imaging.js';
import { Manifest } from './manifest.js';

/**
 * Device API v1: what the on-board agent and the server say to each other. Paths are versioned
 * (`/v1/...`); every call after enroll carries the deployment's token as `Authorization: Bearer`.
 *
 *   POST /v1/enroll                                  identity in; hostname, token and plan out
 *   GET  /v1/deployments/:id/manifest                the image's manifest again (after a restart)
 *   GET  /v1/deployments/:id/chunks/:index           one chunk; HTTP Range; zstd if accepted
 *   POST /v1/deployments/:id/progress                about once a second: phase, bytes written and verified, rate
 *   POST /v1/deployments/:id/result                  success or failed, once
 */

export const AGENT_API_VERSION = 1 as const;

/**
 * Chunks are stored zstd-compressed. A client whose runtime decodes zstd (Node ≥ 22.15; boards run
 * Node 24) sends `Accept-Encoding: zstd` and gets the stored bytes (`Content-Encoding: zstd`);
 * any other client gets the raw chunk, decompressed by the server. Range applies to the
 * representation actually sent, as HTTP says.
 */
export const CHUNK_ENCODING_ZSTD = 'zstd';

/**
 * Error codes with which the server says a stored chunk is damaged. They answer 500 (the fault is
 * the server's), but retrying cannot help: the agent counts them like a chunk that failed its hash.
 */
export const STORE_DAMAGED_CODES: readonly string[] = ['IMAGE_STORE_CORRUPT', 'DEVICE_CHUNK_DAMAGED'];

const Serial = Type.String({ minLength: 1, maxLength: 32, description: 'board serial, 8–16 hex digits' });
const Mac = Type.String({ minLength: 1, maxLength: 32 });

export const EnrollRequest = Type.Object(
  {
    serial: Serial,
    macs: Type.Array(Mac, { maxItems: 16 }),
    model: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    /** Capacity of the card the agent will write; an image that does not fit is refused. */
    storageBytes: Type.Integer({ minimum: 0 }),
    /**
     * The per-boot token netboot put on this board's kernel command line. Optional: simulated
     * boards and boards started by hand have none.
     */
    bootToken: Type.Optional(Type.String({ minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' })),
    /** Venue and product may be left out; the fleet decides (the board's name, else the top batch). */
    venue: Type.Optional(Type.String({ maxLength: 16 })),
    product: Type.Optional(Type.String({ maxLength: 16 })),
    agentVersion: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type EnrollRequest = Static<typeof EnrollRequest>;

/** What the board is to do: write this image, customise its first boot so, skip what it already verified. */
export const DeploymentPlan = Type.Object({
  manifest: Manifest,
  customisation: Customisation,
  /** Chunks this board already wrote and verified for this image in an earlier attempt. */
  verifiedChunks: Type.Array(Type.Integer({ minimum: 0 })),
  progressIntervalMs: Type.Integer({ minimum: 100 }),
  /** The product's delta and verify settings. */
  imaging: ImagingSettings,
  /** Delta on and the board's last deployment succeeded: the chunks that differ from the image it wrote. */
  changedChunks: Type.Optional(ChangedChunks),
});
export type DeploymentPlan = Static<typeof DeploymentPlan>;

/** A secret enroll hands out for the calls after it (a deployment's or a capture's): 32 random bytes, base64url. */
export const DeviceToken = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });

export const EnrollReply = Type.Object({
  apiVersion: Type.Literal(AGENT_API_VERSION),
  deploymentId: Type.Integer(),
  hostname: Type.String(),
  reusedHostname: Type.Boolean(),
  /** Secret for every later call of this deployment; shown once, stored hashed. */
  token: DeviceToken,
  plan: DeploymentPlan,
});
export type EnrollReply = Static<typeof EnrollReply>;

/** The phases a board reports; `enrolled` and the end states are set by enroll and result. */
export const AGENT_PHASES = ['downloading', 'writing', 'verifying', 'customizing'] as const;
export const AgentPhase = Type.Enum(AGENT_PHASES);
export type AgentPhase = (typeof AGENT_PHASES)[number];

/** Bound on the chunk indexes one report may carry (a report goes out about once a second). */
export const VERIFIED_CHUNKS_PER_REPORT_MAX = 4096;

export const ProgressReport = Type.Object(
  {
    phase: AgentPhase,
    /** Moves chunk by chunk as the card is written; the speed and the time left are reckoned from it. */
    bytesWritten: Type.Integer({ minimum: 0, description: 'image bytes written to the card so far, verified or not' }),
    /** Moves a read-back batch at a time (32 MiB by default). */
    bytesDone: Type.Integer({ minimum: 0, description: 'image bytes written and verified so far' }),
    bytesTotal: Type.Integer({ minimum: 0, description: 'image bytes this attempt writes' }),
    rateBytesPerSec: Type.Integer({ minimum: 0 }),
    /** Chunks read back from the card and found correct since the last acknowledged report. */
    verifiedChunks: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: VERIFIED_CHUNKS_PER_REPORT_MAX }),
    /** Chunks reused from the card, written, read so far. */
    writeStats: Type.Optional(WriteStats),
    /** Fleet mode: chunks of this attempt that came from another board rather than the server, so far. */
    chunksFromPeers: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type ProgressReport = Static<typeof ProgressReport>;

export const ProgressReply = Type.Object({
  /** The deployment as the server now sees it; a finished one (superseded) tells the agent to stop. */
  status: DeploymentStatus,
  verifiedCount: Type.Integer({ minimum: 0 }),
});
export type ProgressReply = Static<typeof ProgressReply>;

/** How the agent read the card back: bypassing the page cache, after dropping it, or through it. */
export const VERIFY_METHODS = ['direct-io', 'dropped-caches', 'page-cache'] as const;
export const VerifyMethod = Type.Enum(VERIFY_METHODS);
export type VerifyMethod = (typeof VERIFY_METHODS)[number];

/** How a board says it could not finish (a deployment or a capture): the agent's error code and message. */
export const FailedReport = Type.Object(
  {
    status: Type.Literal('failed'),
    code: Type.String({ pattern: '^[A-Z][A-Z0-9_]{2,63}$' }),
    message: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);
export type FailedReport = Static<typeof FailedReport>;

export const ResultReport = Type.Union([
  Type.Object(
    {
      status: Type.Literal('success'),
      verifyMethod: VerifyMethod,
      /** Chunks verified in this attempt that no progress report carried yet. */
      verifiedChunks: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: VERIFIED_CHUNKS_PER_REPORT_MAX }),
      writeStats: Type.Optional(WriteStats),
    },
    { additionalProperties: false },
  ),
  FailedReport,
]);
export type ResultReport = Static<typeof ResultReport>;

export const ResultReply = Type.Object({ status: DeploymentStatus });
export type ResultReply = Static<typeof ResultReply>;

/** The error body every route answers with (see lib/http-server.ts). */
export const ErrorReply = Type.Object({
  error: Type.String(),
  code: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type ErrorReply = Static<typeof ErrorReply>;

/**
 * Kernel command-line parameters the agent reads on a netbooted board (netboot writes them into
 * the generated cmdline.txt). Flags given on the agent's command line win over these.
 */
export const BOOT_PARAMS = {
  server: 'rpi_deploy.server',
  bootToken: 'rpi_deploy.token',
  target: 'rpi_deploy.target',
  serial: 'rpi_deploy.serial',
  venue: 'rpi_deploy.venue',
  product: 'rpi_deploy.product',
  reboot: 'rpi_deploy.reboot',
  /** SHA-256 of the runtime bundle (Node + this agent) that stage 1 downloads: GET v1Paths.runtime(sha256). */
  runtime: 'rpi_deploy.runtime',
} as const;

export const v1Paths = {
  enroll: '/v1/enroll',
  manifest: (deploymentId: number) => `/v1/deployments/${deploymentId}/manifest`,
  chunk: (deploymentId: number, index: number) => `/v1/deployments/${deploymentId}/chunks/${index}`,
  progress: (deploymentId: number) => `/v1/deployments/${deploymentId}/progress`,
  result: (deploymentId: number) => `/v1/deployments/${deploymentId}/result`,
  /** The runtime bundle stage 1 unpacks (content-addressed; see netboot build). */
  runtime: (sha256: string) => `/v1/runtime/${sha256}.tar`,
  /** The same bundle gzip-compressed: what stage 1 downloads (the server link carries 2.7× fewer bytes per board). */
  runtimeGzip: (sha256: string) => `/v1/runtime/${sha256}.tar.gz`,
};
