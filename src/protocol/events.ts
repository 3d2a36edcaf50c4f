import Type, { type Static } from 'typebox';
import { BatchStatus, DeploymentStatus } from './fleet.js';
import { WriteStats } from './imaging.js';

/**
 * Every event that flows through the one in-process stream (DESIGN §2). Names are dotted
 * `<area>.<what>`; the payload schema is the contract for the live UI, the history and the logs.
 */
export const FleetEventSchemas = {
  'hostname.assigned': Type.Object({
    serial: Type.String(),
    hostname: Type.String(),
    venue: Type.String(),
    product: Type.String(),
    batchId: Type.Union([Type.Integer(), Type.Null()]),
    reused: Type.Boolean(),
  }),
  'hostname.released': Type.Object({
    hostname: Type.String(),
    serial: Type.Union([Type.String(), Type.Null()]),
    venue: Type.String(),
    product: Type.String(),
    reason: Type.String(),
  }),
  'deployment.phase': Type.Object({
    deploymentId: Type.Integer(),
    serial: Type.String(),
    hostname: Type.String(),
    venue: Type.String(),
    product: Type.String(),
    phase: DeploymentStatus,
    error: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()], { description: 'where the board enrolled from' }),
  }),
  /** Live only (about once a second per board), never kept in the history; phase changes are `deployment.phase`. */
  'deployment.progress': Type.Object({
    deploymentId: Type.Integer(),
    serial: Type.String(),
    hostname: Type.String(),
    phase: DeploymentStatus,
    /** Bytes on the card so far; `bytesDone` are those also read back right (see ProgressReport). */
    bytesWritten: Type.Integer(),
    bytesDone: Type.Integer(),
    bytesTotal: Type.Integer(),
    rateBytesPerSec: Type.Integer(),
    chunksVerified: Type.Integer(),
    /** Delta or full, chunks reused and written so far (agents that send it). */
    writeStats: Type.Optional(WriteStats),
    /** Chunks that came from peers rather than the server (agents that send it; see ProgressReport). */
    chunksFromPeers: Type.Optional(Type.Integer()),
  }),
  'enroll.refused': Type.Object({
    serial: Type.String(),
    venue: Type.Union([Type.String(), Type.Null()]),
    product: Type.Union([Type.String(), Type.Null()]),
    code: Type.String(),
    message: Type.String(),
  }),
  /**
   * A seed installer's status report that moved no deployment: `starting` (sent before the config
   * names the board), or one that matches no deployment it may touch. Kept, not refused.
   */
  'seed.report': Type.Object({
    serial: Type.Union([Type.String(), Type.Null()], { description: 'as the installer sent it' }),
    mac: Type.Union([Type.String(), Type.Null()]),
    status: Type.String(),
    hostname: Type.Union([Type.String(), Type.Null()]),
    message: Type.Union([Type.String(), Type.Null()]),
    note: Type.String({ description: 'why no deployment moved' }),
  }),
  'device.reimage': Type.Object({
    serial: Type.String(),
    hostname: Type.Union([Type.String(), Type.Null()]),
  }),
  'batch.status': Type.Object({
    batchId: Type.Integer(),
    venue: Type.String(),
    product: Type.String(),
    status: BatchStatus,
  }),
  'pool.imported': Type.Object({
    venue: Type.String(),
    product: Type.String(),
    added: Type.Integer(),
    duplicates: Type.Integer(),
    invalid: Type.Integer(),
  }),
  'pool.warning': Type.Object({
    venue: Type.String(),
    product: Type.String(),
    available: Type.Integer(),
    message: Type.String(),
  }),
  'dhcp.seen': Type.Object({
    mac: Type.String(),
    serial8: Type.Union([Type.String(), Type.Null()]),
    model: Type.Union([Type.Literal('pi4'), Type.Literal('pi5'), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    mode: Type.Union([Type.Literal('full'), Type.Literal('proxy')]),
    netboot: Type.Boolean(),
    reason: Type.String(),
  }),
  'dhcp.offer': Type.Object({
    mac: Type.String(),
    serial8: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    bootOptions: Type.Boolean(),
  }),
  'dhcp.ack': Type.Object({
    mac: Type.String(),
    serial8: Type.Union([Type.String(), Type.Null()]),
    ip: Type.String(),
    leaseSeconds: Type.Union([Type.Integer(), Type.Null()]),
    bootOptions: Type.Boolean(),
  }),
  'dhcp.nak': Type.Object({
    mac: Type.String(),
    ip: Type.String(),
    reason: Type.String(),
  }),
  'dhcp.declined': Type.Object({
    mac: Type.String(),
    ip: Type.String(),
    holdSeconds: Type.Integer(),
  }),
  'dhcp.warning': Type.Object({
    code: Type.String(),
    message: Type.String(),
  }),
  'dhcp.foreign-server': Type.Object({
    interface: Type.String(),
    serverId: Type.String(),
    from: Type.String(),
    offered: Type.Union([Type.String(), Type.Null()]),
    mode: Type.Union([Type.Literal('full'), Type.Literal('proxy')]),
    action: Type.Union([Type.Literal('refused'), Type.Literal('warned')]),
    message: Type.String(),
  }),
  /** A board read a whole file over TFTP. */
  'tftp.served': Type.Object({
    serial8: Type.Union([Type.String(), Type.Null()]),
    path: Type.String(),
    client: Type.String({ description: 'the client address' }),
    bytes: Type.Integer(),
    durationMs: Type.Integer(),
    blksize: Type.Integer(),
    windowsize: Type.Integer(),
  }),
  /** A TFTP transfer ended before the whole file was acknowledged (not the Pi's tsize probe). */
  'tftp.failed': Type.Object({
    serial8: Type.Union([Type.String(), Type.Null()]),
    path: Type.String(),
    client: Type.String(),
    reason: Type.Union([Type.Literal('timeout'), Type.Literal('deadline'), Type.Literal('aborted')]),
    bytesAcked: Type.Integer(),
    sizeBytes: Type.Integer(),
    durationMs: Type.Integer(),
  }),
  /** An image upload through the management API, a few times a second while it is received and stored. */
  'image.progress': Type.Object({
    product: Type.String(),
    version: Type.String(),
    phase: Type.String({ description: 'receiving, reading, sanitising, analysing or storing' }),
    doneBytes: Type.Integer(),
    totalBytes: Type.Union([Type.Integer(), Type.Null()]),
    by: Type.String({ description: 'who uploads' }),
  }),
  /** A capture request changed status, or (live, a few times a second) received chunks. */
  'capture.status': Type.Object({
    captureId: Type.Integer(),
    serial: Type.String(),
    product: Type.String(),
    version: Type.String(),
    status: Type.String({ description: 'pending, capturing, assembling, succeeded, failed or cancelled' }),
    bytesReceived: Type.Integer(),
    bytesTotal: Type.Union([Type.Integer(), Type.Null()]),
    imageId: Type.Union([Type.Integer(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
  }),
  /** The data directory ran low on free space (`low: true`) or recovered (`low: false`). */
  'disk.warning': Type.Object({
    path: Type.String(),
    freeBytes: Type.Integer(),
    totalBytes: Type.Integer(),
    low: Type.Boolean(),
    message: Type.String(),
  }),
} as const;

export type FleetEventType = keyof typeof FleetEventSchemas;
export type FleetEvents = { [K in FleetEventType]: Static<(typeof FleetEventSchemas)[K]> };

/** One event on the stream; `seq` is set when the event was also written to the history. */
export interface FleetEvent<K extends FleetEventType = FleetEventType> {
  seq: number | null;
  at: string;
  type: K;
  data: FleetEvents[K];
}
