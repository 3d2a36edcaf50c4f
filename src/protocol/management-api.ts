import Type, { type Static } from 'typebox';
import { DoctorReport } from './doctor.js';
import { DEPLOYMENT_STATUSES, BatchStatus, Deployment, PoolStatus, Timestamp } from './fleet.js';

/**
 * Shapes the management API and the web UI exchange beyond the fleet's own (docs/management-api.md).
 * Request schemas refuse unknown fields, so a typo in a client is an error, not a silent no-op.
 */

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ROLES = ['admin', 'operator', 'viewer'] as const;
export const Role = Type.Enum(ROLES, {
  description: 'admin: everything; operator: fleet, images, batches, re-image; viewer: read only',
});
export type Role = (typeof ROLES)[number];

export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._-]{1,31}$';
export const PASSWORD_MIN_LENGTH = 10;

export const Username = Type.String({
  minLength: 2,
  maxLength: 32,
  description: '2–32 characters: a–z, 0–9, . _ - (stored lower-case)',
});
export const Password = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: 1024,
  description: `at least ${PASSWORD_MIN_LENGTH} characters`,
});

export const User = Type.Object({
  username: Type.String(),
  role: Role,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type User = Static<typeof User>;

/** `GET /auth/me` and `POST /auth/login`: who is signed in, and the token for state-changing requests. */
export const Session = Type.Object({
  user: Type.Object({ username: Type.String(), role: Role }),
  csrfToken: Type.String({ description: 'send as header X-CSRF-Token on every POST/PATCH/DELETE' }),
  expiresAt: Timestamp,
});
export type Session = Static<typeof Session>;

export const LoginRequest = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
export type LoginRequest = Static<typeof LoginRequest>;

export const SetupStatus = Type.Object({ needed: Type.Boolean({ description: 'true until the first admin exists' }) });
export type SetupStatus = Static<typeof SetupStatus>;

export const SetupRequest = Type.Object(
  { setupToken: Type.String({ minLength: 1, maxLength: 200 }), username: Username, password: Password },
  { additionalProperties: false },
);
export type SetupRequest = Static<typeof SetupRequest>;

export const PasswordChange = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 1024 }), newPassword: Password },
  { additionalProperties: false },
);
export type PasswordChange = Static<typeof PasswordChange>;

export const UserInput = Type.Object(
  { username: Username, password: Password, role: Role },
  { additionalProperties: false },
);
export type UserInput = Static<typeof UserInput>;

export const UserPatch = Type.Object(
  { role: Type.Optional(Role), password: Type.Optional(Password) },
  { additionalProperties: false, minProperties: 1 },
);
export type UserPatch = Static<typeof UserPatch>;

export const ApiToken = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  role: Role,
  createdBy: Type.String(),
  createdAt: Timestamp,
  lastUsedAt: Nullable(Timestamp),
  expiresAt: Nullable(Timestamp),
  revokedAt: Nullable(Timestamp),
});
export type ApiToken = Static<typeof ApiToken>;

export const ApiTokenInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    role: Role,
    expiresInDays: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 3650, description: 'omit for a token that lasts until revoked' }),
    ),
  },
  { additionalProperties: false },
);
export type ApiTokenInput = Static<typeof ApiTokenInput>;

/** The only time the secret is ever shown: keep it; the server stores its hash. */
export const ApiTokenCreated = Type.Object({
  token: ApiToken,
  secret: Type.String({ description: 'send as Authorization: Bearer <secret>' }),
});
export type ApiTokenCreated = Static<typeof ApiTokenCreated>;

export const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: Timestamp,
  actor: Type.String({ description: 'username, or token:<name> for API tokens, or - before login' }),
  action: Type.String({ description: 'dotted, e.g. venue.create, auth.login-failed' }),
  target: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  ip: Nullable(Type.String()),
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'id of the oldest entry already shown' })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const DeploymentQuery = Type.Object(
  {
    venue: Type.Optional(Type.String({ maxLength: 16 })),
    product: Type.Optional(Type.String({ maxLength: 16 })),
    status: Type.Optional(Type.Enum(DEPLOYMENT_STATUSES)),
    serial: Type.Optional(Type.String({ maxLength: 32 })),
    batchId: Type.Optional(Type.Integer({ minimum: 1 })),
    since: Type.Optional(
      Type.String({ maxLength: 40, description: 'date (2026-11-22) or ISO timestamp; enrolled at or after' }),
    ),
    until: Type.Optional(Type.String({ maxLength: 40, description: 'date or ISO timestamp; enrolled before' })),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        default: 100,
        description: 'page size (JSON); CSV exports every match up to 100000',
      }),
    ),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    format: Type.Optional(Type.Enum(['json', 'csv'], { description: 'csv = download (same as Accept: text/csv)' })),
  },
  { additionalProperties: false },
);
export type DeploymentQuery = Static<typeof DeploymentQuery>;

export const DeploymentPage = Type.Object({
  items: Type.Array(Deployment),
  offset: Type.Integer(),
  limit: Type.Integer(),
  hasMore: Type.Boolean({ description: 'true when another page follows (offset + limit)' }),
});
export type DeploymentPage = Static<typeof DeploymentPage>;

export const PoolQuery = Type.Object(
  { product: Type.Optional(Type.String({ maxLength: 16 })), status: Type.Optional(PoolStatus) },
  { additionalProperties: false },
);
export const BatchQuery = Type.Object(
  { venue: Type.Optional(Type.String({ maxLength: 16 })), status: Type.Optional(BatchStatus) },
  { additionalProperties: false },
);

export const PoolImportRequest = Type.Object(
  {
    product: Type.Optional(
      Type.String({ minLength: 1, maxLength: 16, description: 'default: the venue’s only pooled product (KXP2)' }),
    ),
    text: Type.String({
      minLength: 1,
      maxLength: 1_000_000,
      description: 'ranges (1-60), lists (1,2,7), one per line, or CSV with a kart_number column',
    }),
    dryRun: Type.Optional(Type.Boolean({ description: 'preview: report what would happen, write nothing' })),
    force: Type.Optional(
      Type.Boolean({ description: 'import even though most lines are invalid (the preview said confirm)' }),
    ),
  },
  { additionalProperties: false },
);
export type PoolImportRequest = Static<typeof PoolImportRequest>;

export const PoolRetireRequest = Type.Object(
  {
    hostnames: Type.Array(Type.String({ minLength: 1, maxLength: 63 }), {
      minItems: 1,
      maxItems: 10_000,
      description: 'the numbers to retire, by hostname; all or none are retired',
    }),
  },
  { additionalProperties: false },
);
export type PoolRetireRequest = Static<typeof PoolRetireRequest>;

export const DiskStatus = Type.Object({
  path: Type.String(),
  freeBytes: Type.Integer(),
  totalBytes: Type.Integer(),
  low: Type.Boolean({ description: 'free space is below management.diskLowMiB' }),
});
export type DiskStatus = Static<typeof DiskStatus>;

export const SystemStatus = Type.Object({
  version: Type.String(),
  node: Type.String(),
  uptimeSeconds: Type.Integer(),
  listeners: Type.Object({ device: Nullable(Type.String()), management: Nullable(Type.String()) }),
  dhcp: Type.Object({
    enabled: Type.Boolean(),
    mode: Nullable(Type.String({ description: 'full or proxy' })),
    interface: Nullable(Type.String()),
  }),
  /** Without netboot.interface nothing serves DHCP or TFTP, so no board can boot from the network. */
  netboot: Type.Object({
    enabled: Type.Boolean({ description: 'netboot.interface is set' }),
    tftp: Nullable(
      Type.Object(
        { address: Type.String(), port: Type.Integer() },
        { description: 'where TFTP serves; null when off' },
      ),
    ),
    stage1: Nullable(
      Type.Object(
        { builtAt: Type.String({ description: 'ISO 8601' }) },
        { description: 'the boot files `rpi-deploy netboot build` left; null when never built' },
      ),
    ),
  }),
  disk: DiskStatus,
  database: Type.Object({
    ok: Type.Boolean(),
    schemaVersion: Nullable(Type.String()),
    sizeBytes: Type.Integer(),
    error: Type.Optional(Type.String({ description: 'why the database is not ok, e.g. disk full, with what to do' })),
  }),
  liveClients: Type.Integer({ description: 'open live-event connections' }),
  /** The server link's use; its capacity is not known to the server, so only the rate. */
  deviceLink: Type.Object({
    servedBytesPerSec: Type.Integer({
      description: 'bytes the device side served to boards per second, over the last 5 s (whole responses)',
    }),
  }),
  /** The preflight checks of `rpi-deploy doctor`, run at start and at most once a minute after; null before the first run. */
  doctor: Nullable(DoctorReport),
});
export type SystemStatus = Static<typeof SystemStatus>;

/** Control messages of the live channel (named SSE events); fleet events come as unnamed `message`s. */
export const LiveReady = Type.Object({
  seq: Type.Integer({ description: 'the last history seq this stream has covered' }),
});
export type LiveReady = Static<typeof LiveReady>;
export const LiveDropped = Type.Object({ reason: Type.String() });
export type LiveDropped = Static<typeof LiveDropped>;
