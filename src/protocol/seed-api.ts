import Type, { type Static } from 'typebox';

/**
 * The seed's device contract, as its on-board installer (`pi_installer.py`) speaks it: snake_case
 * fields, extra fields tolerated, nulls where the installer sends them. Field contents (codes,
 * serials) are checked by the fleet rules, which give better messages than a pattern would.
 * docs/device-api.md describes it and where rpi-deploy deliberately differs.
 */

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Text = (maxLength: number) => Type.Optional(Nullable(Type.String({ maxLength })));

/** The installer's `serial_number` when /proc/cpuinfo has no serial; the board is then known by its MAC. */
export const SEED_UNKNOWN_SERIAL = 'unknown';

/** The `version` the seed's server answered and its installer reads. */
export const SEED_API_VERSION = '3.0' as const;

export const SeedConfigRequest = Type.Object(
  {
    product_type: Type.String({ maxLength: 64 }),
    /** Null when the installer ran without `--venue`: the top active batch decides. */
    venue_code: Text(64),
    serial_number: Type.String({ maxLength: 64 }),
    mac_address: Text(64),
  },
  { additionalProperties: true },
);
export type SeedConfigRequest = Static<typeof SeedConfigRequest>;

export const SeedConfigReply = Type.Object({
  // The seed's fields; the installer reads version, image_url, image_size and image_checksum.
  server_ip: Type.String(),
  hostname: Type.String(),
  product_type: Type.String(),
  venue_code: Type.String(),
  image_url: Type.String(),
  image_size: Type.Integer(),
  image_checksum: Type.String({ description: 'SHA-256 of exactly the bytes image_url serves' }),
  version: Type.Literal(SEED_API_VERSION),
  timestamp: Type.String({ description: 'ISO 8601' }),
  // Ours.
  serial_number: Type.String(),
  mac_address: Nullable(Type.String()),
  deployment_id: Type.Integer(),
  reused_hostname: Type.Boolean(),
  image_filename: Type.String(),
  image_version: Type.String(),
});
export type SeedConfigReply = Static<typeof SeedConfigReply>;

/** The installer's phases, in its words, in the order it reports them. */
export const SEED_STATUSES = ['starting', 'downloading', 'verifying', 'customizing', 'success', 'failed'] as const;
export type SeedStatus = (typeof SEED_STATUSES)[number];

export const SeedStatusRequest = Type.Object(
  {
    status: Type.Enum(SEED_STATUSES),
    /** The installer's serial (`unknown` without one); a report without it is recorded unmatched. */
    serial: Text(64),
    /** Null for `starting`: that report goes out before the config named the board. */
    hostname: Text(64),
    mac_address: Text(64),
    message: Text(4000),
    /** The failure reason of a `failed` report. */
    error_message: Text(4000),
    /** Unix seconds, a float. */
    timestamp: Type.Optional(Nullable(Type.Number())),
  },
  { additionalProperties: true },
);
export type SeedStatusRequest = Static<typeof SeedStatusRequest>;

export const SeedStatusReply = Type.Object({
  received: Type.Literal(true),
  hostname: Nullable(Type.String()),
  // Ours: the deployment the report moved (null: recorded, matched to none).
  deployment_id: Nullable(Type.Integer()),
  deployment_status: Nullable(Type.String()),
});
export type SeedStatusReply = Static<typeof SeedStatusReply>;
