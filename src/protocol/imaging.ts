import Type, { type Static } from 'typebox';

/**
 * How a product's boards write and check their cards, stored with the product and sent to the
 * agent in its plan (docs/delta-reimage.md).
 */

export const VERIFY_MODES = ['full', 'sample'] as const;
export const VerifyMode = Type.Enum(VERIFY_MODES, {
  description:
    'full: every written byte is read back from the card; sample: the first and last 4 KiB of every written ' +
    'chunk plus about one whole chunk in 16, chosen per board (a bad block elsewhere in an unsampled chunk is missed)',
});
export type VerifyMode = (typeof VERIFY_MODES)[number];

export const ImagingSettings = Type.Object(
  {
    /**
     * Delta re-image: when the card's partition table matches the image's, each used chunk is read
     * from the card first and only the chunks that differ are downloaded and written.
     */
    delta: Type.Boolean({
      description: 'read the card first and write only the chunks that differ, when its partition table matches',
    }),
    verify: VerifyMode,
  },
  { additionalProperties: false },
);
export type ImagingSettings = Static<typeof ImagingSettings>;

export const DEFAULT_IMAGING: ImagingSettings = { delta: true, verify: 'full' };

/** A change to a product's imaging settings; what is left out stays. */
export const ImagingPatch = Type.Partial(ImagingSettings, { additionalProperties: false });
export type ImagingPatch = Static<typeof ImagingPatch>;

const Count = Type.Integer({ minimum: 0 });

/** Bound on the ranges of a ChangedChunks: a 256 GB image of 4 MiB chunks, every other one changed. */
export const CHANGED_CHUNK_RANGES_MAX = 32_768;

/**
 * A delta re-image's hint, in the plan: the used chunks of the new image that differ from the image
 * the server last wrote to this board (another raw SHA-256 at the same index and offset, or not
 * used there), as inclusive [first, last] index ranges in ascending order. A range may span chunks
 * the new image does not use. The agent writes these chunks without reading them first; it still
 * reads and compares every other used chunk, so a wrong hint costs time, never a wrong card.
 * Left out when the server knows no image on the card (docs/delta-reimage.md).
 */
export const ChangedChunks = Type.Array(Type.Tuple([Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 0 })]), {
  maxItems: CHANGED_CHUNK_RANGES_MAX,
});
export type ChangedChunks = Static<typeof ChangedChunks>;

/** What one write of a card did, chunk by chunk: sent with progress and the result, kept with the deployment. */
export const WriteStats = Type.Object(
  {
    mode: Type.Enum(['delta', 'full'] as const),
    /** Why the card was written whole although delta was asked for (a different partition table). */
    fullWriteReason: Type.Optional(Type.String({ maxLength: 300 })),
    verify: VerifyMode,
    /** Chunks the image uses; the others are never touched. */
    chunksUsed: Count,
    /** Chunks read from the card first, whether they matched or not. */
    chunksReadFirst: Count,
    /** Chunks found right on the card (read, hashed, equal to the manifest): not downloaded, not written. */
    chunksReused: Count,
    bytesReused: Count,
    /** Chunks downloaded and written (a rewrite after a bad read-back counts once). */
    chunksWritten: Count,
    bytesWritten: Count,
    /** Bytes read from the card to compare before writing. */
    bytesReadFirst: Count,
    /** Bytes read back to verify what was written. */
    bytesReadBack: Count,
    /** Times reading first was stopped because too few chunks matched (the rest then written straight). */
    readFirstStops: Count,
  },
  { additionalProperties: false },
);
export type WriteStats = Static<typeof WriteStats>;
