import Type, { type Static } from 'typebox';

/**
 * Fleet mode (issue 16): boards serve the compressed chunks they hold to each other over HTTP and
 * the server is only the tracker, so the server's link stops being the limit. The tracker places
 * each board in a tree (the first board of an image fetches from the server; each later one gets a
 * parent with a free slot); a board that cannot use its parent says why and is placed again.
 *
 *   POST /v1/deployments/:id/peer      on the device API: join (or re-join) the image's swarm
 *   GET  /v1/peer/chunks/:storedSha256 on every board's own peer server: one stored (zstd) chunk
 *
 * Whatever a peer sends is checked against the manifest's SHA-256 before it is written, so a
 * hostile peer can slow a board down (it then falls back to the server) but never corrupt it.
 */

/** Why a board gives up on its parent: a dead parent is dropped from the tree, a bad one only avoided by this board. */
export const PEER_FAULTS = ['unreachable', 'corrupt', 'slow'] as const;
export type PeerFault = (typeof PEER_FAULTS)[number];

export const PeerJoinRequest = Type.Object(
  {
    /** The TCP port of the board's peer server; the address is the one the server sees the request from. */
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** The parent this board gives up on, and why. */
    failedParent: Type.Optional(
      Type.Object(
        { peerId: Type.Integer({ minimum: 1 }), fault: Type.Enum(PEER_FAULTS) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type PeerJoinRequest = Static<typeof PeerJoinRequest>;

export const PeerParent = Type.Object({
  /** The parent's deployment id: what a board names when it reports the parent failed. */
  peerId: Type.Integer({ minimum: 1 }),
  /** Base URL of the parent's peer server, e.g. http://198.18.1.7:40123. */
  url: Type.String({ maxLength: 200 }),
});
export type PeerParent = Static<typeof PeerParent>;

export const PeerJoinReply = Type.Union([
  Type.Object({ enabled: Type.Literal(false) }),
  Type.Object({
    enabled: Type.Literal(true),
    /** Peers of one swarm ask each other for this bearer token: chunks go only to boards the server enrolled. */
    swarmToken: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    /** null: fetch from the server (the tree's root, or no parent is free). */
    parent: Type.Union([PeerParent, Type.Null()]),
  }),
]);
export type PeerJoinReply = Static<typeof PeerJoinReply>;

export const peerPaths = {
  join: (deploymentId: number) => `/v1/deployments/${deploymentId}/peer`,
  chunk: (storedSha256: string) => `/v1/peer/chunks/${storedSha256}`,
};
