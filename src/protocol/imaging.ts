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
