import Type, { type Static } from 'typebox';

/**
 * The seed installer's contract (`pi_installer.py`), kept byte-compatible: snake_case fields,
 * extra fields tolerated. Field contents (codes, serials) are checked by the fleet rules, which
 * give better messages than a pattern would.
 */
export const SeedConfigRequest = Type.Object(
  {
    product_type: Type.String({ maxLength: 64 }),
    venue_code: Type.String({ maxLength: 64 }),
    serial_number: Type.String({ maxLength: 64 }),
    mac_address: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  },
  { additionalProperties: true },
);
export type SeedConfigRequest = Static<typeof SeedConfigRequest>;

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const SeedConfigReply = Type.Object({
  hostname: Type.String(),
  product_type: Type.String(),
  venue_code: Type.String(),
  serial_number: Type.String(),
  mac_address: Nullable(Type.String()),
  deployment_id: Type.Integer(),
  reused_hostname: Type.Boolean(),
  image_filename: Nullable(Type.String()),
  image_url: Nullable(Type.String()),
  image_checksum: Nullable(Type.String({ description: 'SHA-256 of the raw image' })),
  image_size: Nullable(Type.Integer()),
  image_version: Nullable(Type.String()),
  server_time: Type.String(),
});
export type SeedConfigReply = Static<typeof SeedConfigReply>;

/** The seed installer's phases, in its words; mapped onto the deployment state machine. */
export const SEED_STATUSES = ['starting', 'downloading', 'verifying', 'customizing', 'success', 'failed'] as const;

export const SeedStatusRequest = Type.Object(
  {
    serial_number: Type.String({ maxLength: 64 }),
    status: Type.Enum(SEED_STATUSES),
    deployment_id: Type.Optional(Type.Integer({ minimum: 1 })),
    hostname: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    /** The failure reason; the seed's installers used several names for it. */
    message: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
    error: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
    error_message: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
  },
  { additionalProperties: true },
);
export type SeedStatusRequest = Static<typeof SeedStatusRequest>;

export const SeedStatusReply = Type.Object({
  status: Type.Literal('ok'),
  deployment_id: Type.Integer(),
  hostname: Type.String(),
  deployment_status: Type.String(),
});
export type SeedStatusReply = Static<typeof SeedStatusReply>;
