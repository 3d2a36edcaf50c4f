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
