import Type, { type Static } from 'typebox';
import { Timestamp } from './fleet.js';

/** A master image as operators and boards see its record. */
export const Image = Type.Object({
  id: Type.Integer(),
  product: Type.String(),
  version: Type.String(),
  fileRef: Type.String({ description: 'where the image bytes are kept' }),
  sizeBytes: Type.Integer({ description: 'size of the raw (uncompressed) image' }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the raw image' }),
  active: Type.Boolean({ description: 'the image boards of this product receive; one per product' }),
  notes: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
});
export type Image = Static<typeof Image>;

export const ImageRecordInput = Type.Object(
  {
    product: Type.String({ minLength: 1, maxLength: 16 }),
    version: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$', description: 'e.g. 2026.11.1' }),
    fileRef: Type.String({ minLength: 1, maxLength: 4096 }),
    sizeBytes: Type.Integer({ minimum: 1 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    notes: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type ImageRecordInput = Static<typeof ImageRecordInput>;

/** The stable file name under which boards download an image (`GET /images/<name>`). */
export function imageFileName(image: Pick<Image, 'product' | 'version'>): string {
  return `${image.product}-${image.version}.img`;
}
