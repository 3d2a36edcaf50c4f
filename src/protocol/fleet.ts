import Type, { type Static } from 'typebox';
import { ImagingPatch, ImagingSettings, WriteStats } from './imaging.js';

/**
 * The fleet's shapes as seen from outside: what the CLI prints, what the management API and the UI
 * exchange, what events carry. Domain code returns exactly these, so no boundary restates a type.
 */

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** ISO 8601 UTC timestamp, e.g. `2026-11-22T07:00:00.000Z`. */
export const Timestamp = Type.String({ format: 'date-time' });

export const VENUE_CODE_PATTERN = '^[A-Z0-9]{4}$';
export const PRODUCT_CODE_PATTERN = '^[A-Z][A-Z0-9]{1,7}$';

export const DEPLOYMENT_STATUSES = [
  'enrolled',
  'downloading',
  'writing',
  'verifying',
  'customizing',
  'success',
  'failed',
] as const;
export const DeploymentStatus = Type.Enum(DEPLOYMENT_STATUSES);
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const POOL_STATUSES = ['available', 'assigned', 'retired'] as const;
export const PoolStatus = Type.Enum(POOL_STATUSES);
export type PoolStatus = (typeof POOL_STATUSES)[number];

export const BATCH_STATUSES = ['pending', 'active', 'paused', 'completed', 'cancelled'] as const;
export const BatchStatus = Type.Enum(BATCH_STATUSES);
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export const Venue = Type.Object({
  code: Type.String({ pattern: VENUE_CODE_PATTERN }),
  name: Type.String(),
  location: Nullable(Type.String()),
  contact: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Venue = Static<typeof Venue>;

export const VenueInput = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 16, description: '4 characters, A–Z and 0–9; stored upper-case' }),
    name: Type.String({ minLength: 1, maxLength: 120 }),
    location: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    contact: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);
export type VenueInput = Static<typeof VenueInput>;

export const VenuePatch = Type.Partial(Type.Omit(VenueInput, ['code']), { additionalProperties: false });
export type VenuePatch = Static<typeof VenuePatch>;

export const NamingKind = Type.Union([Type.Literal('pool'), Type.Literal('serial')]);
export type NamingKind = Static<typeof NamingKind>;

export const Product = Type.Object({
  code: Type.String({ pattern: PRODUCT_CODE_PATTERN }),
  name: Type.String(),
  hostnamePattern: Type.String(),
  naming: NamingKind,
  builtin: Type.Boolean(),
  createdAt: Timestamp,
  imaging: ImagingSettings,
});
export type Product = Static<typeof Product>;

export const ProductInput = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 16 }),
    name: Type.String({ minLength: 1, maxLength: 120 }),
    hostnamePattern: Type.String({
      minLength: 1,
      maxLength: 63,
      description: 'e.g. "KXP2-{venue}-{number:3}" (from a pool) or "RXP2-{venue}-{serial}" (from the board serial)',
    }),
    /** Left out: delta re-image on, full read-back. */
    imaging: Type.Optional(ImagingPatch),
  },
  { additionalProperties: false },
);
export type ProductInput = Static<typeof ProductInput>;

/** What may change on an existing product. */
export const ProductPatch = Type.Object({ imaging: ImagingPatch }, { additionalProperties: false });
export type ProductPatch = Static<typeof ProductPatch>;

export const PoolEntry = Type.Object({
  id: Type.Integer(),
  venue: Type.String(),
  product: Type.String(),
  number: Type.Integer(),
  hostname: Type.String(),
  status: PoolStatus,
  serial: Nullable(Type.String()),
  assignedAt: Nullable(Timestamp),
  updatedAt: Timestamp,
});
export type PoolEntry = Static<typeof PoolEntry>;

/** What retiring a selection of numbers did (all or nothing). */
export const PoolRetireResult = Type.Object({
  venue: Type.String(),
  retired: Type.Array(Type.String(), { description: 'hostnames this request took out of service' }),
  alreadyRetired: Type.Array(Type.String(), { description: 'hostnames that were retired before' }),
});
export type PoolRetireResult = Static<typeof PoolRetireResult>;

export const PoolImportLine = Type.Object({
  line: Type.Integer({ description: '1-based line number in the input' }),
  text: Type.String(),
  added: Type.Array(Type.Integer()),
  duplicates: Type.Array(Type.Integer()),
  errors: Type.Array(Type.String()),
});
export type PoolImportLine = Static<typeof PoolImportLine>;

export const PoolImportResult = Type.Object({
  venue: Type.String(),
  product: Type.String(),
  added: Type.Integer(),
  duplicates: Type.Integer(),
  invalid: Type.Integer(),
  lines: Type.Array(PoolImportLine),
  confirm: Type.Optional(
    Type.String({ description: 'dry run only: most lines are invalid, so the import needs force: true; says why' }),
  ),
});
export type PoolImportResult = Static<typeof PoolImportResult>;

export const PoolStats = Type.Object({
  venue: Type.String(),
  product: Type.String(),
  available: Type.Integer(),
  assigned: Type.Integer(),
  retired: Type.Integer(),
  total: Type.Integer(),
});
export type PoolStats = Static<typeof PoolStats>;

export const VenueStats = Type.Object({
  venue: Type.String(),
  pools: Type.Array(PoolStats),
  activeAssignments: Type.Integer({
    description: 'boards currently holding a name at this venue (pool and serial products)',
  }),
  deployments: Type.Record(Type.String(), Type.Integer(), { description: 'deployment count per status' }),
});
export type VenueStats = Static<typeof VenueStats>;

export const Batch = Type.Object({
  id: Type.Integer(),
  venue: Type.String(),
  product: Type.String(),
  name: Nullable(Type.String()),
  expectedCount: Type.Integer(),
  priority: Type.Integer(),
  status: BatchStatus,
  assigned: Type.Integer(),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  createdAt: Timestamp,
  activatedAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
});
export type Batch = Static<typeof Batch>;

export const BatchInput = Type.Object(
  {
    venue: Type.String({ minLength: 1, maxLength: 16 }),
    product: Type.String({ minLength: 1, maxLength: 16 }),
    expectedCount: Type.Integer({ minimum: 1, maximum: 100000 }),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
    name: Type.Optional(Nullable(Type.String({ maxLength: 120 }))),
  },
  { additionalProperties: false },
);
export type BatchInput = Static<typeof BatchInput>;

export const Device = Type.Object({
  serial: Type.String(),
  serial8: Type.String(),
  macs: Type.Array(Type.String()),
  model: Nullable(Type.String()),
  hostname: Nullable(Type.String({ description: 'the name the board currently holds, if any' })),
  firstSeenAt: Timestamp,
  lastSeenAt: Timestamp,
  reimageRequestedAt: Nullable(Timestamp),
});
export type Device = Static<typeof Device>;

export const Deployment = Type.Object({
  id: Type.Integer(),
  serial: Type.String(),
  hostname: Type.String(),
  venue: Type.String(),
  product: Type.String(),
  batchId: Nullable(Type.Integer()),
  imageId: Nullable(Type.Integer()),
  status: DeploymentStatus,
  error: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  mac: Nullable(Type.String()),
  enrolledAt: Timestamp,
  downloadingAt: Nullable(Timestamp),
  writingAt: Nullable(Timestamp),
  verifyingAt: Nullable(Timestamp),
  customizingAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
  updatedAt: Timestamp,
  /** The product's imaging settings as the plan sent them; null before a plan. */
  imaging: Nullable(ImagingSettings),
  /** What the write did (delta or full, chunks reused and written, bytes read), from the agent's result. */
  writeStats: Nullable(WriteStats),
});
export type Deployment = Static<typeof Deployment>;

export const DeploymentFilter = Type.Object(
  {
    venue: Type.Optional(Type.String()),
    product: Type.Optional(Type.String()),
    status: Type.Optional(DeploymentStatus),
    serial: Type.Optional(Type.String()),
    batchId: Type.Optional(Type.Integer()),
    since: Type.Optional(Type.String({ description: 'ISO date or timestamp; enrolled at or after' })),
    until: Type.Optional(Type.String({ description: 'ISO date or timestamp; enrolled before' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type DeploymentFilter = Static<typeof DeploymentFilter>;

export const HistoryEntry = Type.Object({
  seq: Type.Integer(),
  at: Timestamp,
  type: Type.String(),
  deploymentId: Nullable(Type.Integer()),
  serial: Nullable(Type.String()),
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type HistoryEntry = Static<typeof HistoryEntry>;

/** What a board gets when it is given a name (seed `/api/config`, v1 enroll). */
export const Enrollment = Type.Object({
  deployment: Deployment,
  device: Device,
  hostname: Type.String(),
  reused: Type.Boolean({ description: 'true when the board got back the name it already held' }),
});
export type Enrollment = Static<typeof Enrollment>;
