import Type, { type Static } from 'typebox';
import { Timestamp } from './fleet.js';
import { OsGeneration } from './manifest.js';

/** How an image file arrived, told by its first bytes (never by its name). */
export const ImageSourceFormat = Type.Enum(['img', 'xz', 'gz', 'zst', 'zip'] as const);
export type ImageSourceFormat = Static<typeof ImageSourceFormat>;

/** A master image as operators and boards see its record; its bytes are in the chunk store. */
export const Image = Type.Object({
  id: Type.Integer(),
  product: Type.String(),
  version: Type.String(),
  sizeBytes: Type.Integer({ description: 'size of the raw (uncompressed) image' }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the raw image' }),
  chunkCount: Type.Integer({ description: 'chunks of the raw image in the manifest' }),
  storedBytes: Type.Integer({
    description: 'compressed size of its distinct chunks (shared chunks counted once per image)',
  }),
  usedBytes: Type.Integer({
    description: 'bytes that partition tables and filesystems use; the rest a board may skip',
  }),
  osGeneration: OsGeneration,
  sourceName: Type.String({ description: 'file name the image was imported from' }),
  sourceFormat: ImageSourceFormat,
  active: Type.Boolean({ description: 'the image boards of this product receive; one per product' }),
  notes: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
});
export type Image = Static<typeof Image>;

/** What an operator says about an image being imported (CLI flags, upload form fields). */
export const ImageImportInput = Type.Object(
  {
    product: Type.String({ minLength: 1, maxLength: 16 }),
    version: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$',
      description: 'e.g. 2026.11.1',
    }),
    notes: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    activate: Type.Optional(Type.Boolean({ description: 'make it the active image of its product once stored' })),
  },
  { additionalProperties: false },
);
export type ImageImportInput = Static<typeof ImageImportInput>;

/** The stable file name under which boards download an image (`GET /images/<name>`). */
export function imageFileName(image: Pick<Image, 'product' | 'version'>): string {
  return `${image.product}-${image.version}.img`;
}
