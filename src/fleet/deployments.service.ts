import type {
  DeploymentPlan,
  ProgressReport,
  ProgressReply,
  ResultReport,
  ResultReply,
} from '../protocol/agent-api.js';
import type { Deployment, DeploymentStatus, Enrollment } from '../protocol/fleet.js';
import type { CustomisationFormat } from '../protocol/firstboot.js';
import type { Image } from '../protocol/images.js';
import { DEFAULT_IMAGING, type ChangedChunks } from '../protocol/imaging.js';
import type { Manifest, OsGeneration } from '../protocol/manifest.js';
import { SEED_UNKNOWN_SERIAL, type SeedStatus } from '../protocol/seed-api.js';
import type { Db } from '../store/index.js';
import { activeAssignmentsOf } from './assignments.repo.js';
import { changedChunks } from './changed-chunks.js';
import { isClosedAfterSuccess, isTerminal } from './deployment-state.js';
import {
  findDeployment,
  latestDeploymentOf,
  setDeploymentImage,
  setDeploymentStatus,
  setDeploymentWriteStats,
  silentDeployments,
  touchDeployment,
} from './deployments.repo.js';
import { deviceTokenHash, newDeviceToken } from './device-tokens.js';
import { findDeploymentByTokenHash, hasDeploymentToken, insertDeploymentToken } from './device-tokens.repo.js';
import { findDevice } from './devices.repo.js';
import {
  advanceIn,
  enrollIn,
  parseEnrollInput,
  publishRefusal,
  recordPhase,
  resolveTarget,
  type EnrollInput,
  type ParsedEnrollInput,
} from './enrollment.service.js';
import { FleetError } from './errors.js';
import { resolveFirstBoot } from './firstboot.service.js';
import { parseMac, parseSerial } from './hostname.js';
import { findProduct } from './products.repo.js';
import { unitOfWork, type FleetDeps, type Outbox } from './unit-of-work.js';
import {
  countVerifiedChunks,
  deleteVerifiedChunks,
  insertVerifiedChunks,
  listVerifiedChunks,
} from './verified-chunks.repo.js';

/** The image catalogue the deployment rules need: which image a product gets, and its manifest. */
export interface ImageCatalog {
  active(product: string): Promise<CatalogImage | undefined>;
  manifest(imageId: number): Promise<Manifest>;
  /** Whether the image is still stored (a deployment keeps the id of an image removed since). */
  has(imageId: number): Promise<boolean>;
}
export type CatalogImage = Pick<Image, 'id' | 'product' | 'version' | 'sizeBytes' | 'sha256'>;

export interface DeploymentServiceOptions {
  /** An open deployment whose board says nothing for this long fails ("no report since …"). */
  silenceMs: number;
  /** How often boards report progress (told to the agent in its plan). */
  progressIntervalMs: number;
}

/** A v1 enrollment: the name, the plan and the secret for every later call. */
export interface DeviceEnrollment {
  enrollment: Enrollment;
  plan: DeploymentPlan;
  token: string;
}

export interface SeedConfigInput {
  product: string;
  /** Null or missing: the board's current name, else the top active batch, decides. */
  venue?: string | null | undefined;
  /** May be `unknown` (no serial in /proc/cpuinfo): the board is then known by its MAC. */
  serial: string;
  mac?: string | null | undefined;
  ip: string | null;
}

export interface SeedStatusInput {
  status: SeedStatus;
  serial?: string | null | undefined;
  mac?: string | null | undefined;
  hostname?: string | null | undefined;
  message?: string | null | undefined;
  errorMessage?: string | null | undefined;
}

/** What a seed status report did: the deployment it moved, or none (it was recorded unmatched). */
export interface SeedStatusOutcome {
  deployment: Deployment | null;
  hostname: string | null;
}

/**
 * Every rule of a board's deployment, for both device contracts (API v1 and the seed's), each
 * operation one transaction:
 * - the device side never undoes an operator's decision: a board imaged successfully is not
 *   re-imaged until an operator asks for it, and a board that holds a name elsewhere is not moved;
 * - a deployment token ends with its deployment for the image (manifest, chunks);
 * - success is taken from a v1 board only when every used chunk of the image is on record as verified;
 * - an open deployment whose board falls silent fails after `silenceMs`; its name stays with the serial.
 */
export interface DeploymentService {
  enroll(input: EnrollInput): Promise<DeviceEnrollment>;
  /** The deployment a v1 token belongs to, ended or not; undefined for an unknown token. */
  authenticate(token: string): Promise<Deployment | undefined>;
  /** The image of an open deployment; refused once the deployment ended. */
  imageOf(deploymentId: number): Promise<{ deployment: Deployment; imageId: number; manifest: Manifest }>;
  reportProgress(deploymentId: number, report: ProgressReport): Promise<ProgressReply>;
  reportResult(deploymentId: number, report: ResultReport): Promise<ResultReply>;
  seedConfig(input: SeedConfigInput): Promise<{ enrollment: Enrollment; image: CatalogImage }>;
  seedStatus(input: SeedStatusInput): Promise<SeedStatusOutcome>;
  /** Fails every open deployment silent for longer than `silenceMs`; returns them. */
  failSilent(): Promise<Deployment[]>;
  /** Chunks a board verified of an image (what a re-enrolled board may skip). */
  verifiedChunks(serial: string, imageId: number): Promise<number[]>;
}

const FORMAT_OF: Record<OsGeneration, CustomisationFormat | null> = {
  'cloud-init': 'cloud-init',
  firstrun: 'firstrun',
  unknown: null,
};

/** The installer's `starting` comes before its config: the phase a seed deployment is in once it has one. */
const PHASE_OF: Record<SeedStatus, DeploymentStatus> = {
  starting: 'enrolled',
  downloading: 'downloading',
  verifying: 'verifying',
  customizing: 'customizing',
  success: 'success',
  failed: 'failed',
};

/** A board reporting the same phase is heard from; noting it costs a write, so at most this often. */
const TOUCH_EVERY_MS = 60_000;

export function createDeploymentService(
  given: Omit<FleetDeps, 'clock'> & { clock?: () => Date; images: ImageCatalog; options: DeploymentServiceOptions },
): DeploymentService {
  const deps = { ...given, clock: given.clock ?? (() => new Date()) };
  const { store, images, options } = deps;

  /** Looks the image up before the write transaction (the catalogue is another component's reads). */
  async function imageFor(input: ParsedEnrollInput): Promise<{ product: string; image: CatalogImage | undefined }> {
    const product = input.product ?? (await resolveTarget(store.db, input.serial, input.venue, undefined)).product.code;
    return { product, image: await images.active(product) };
  }

  /** The device side's enroll: the operator's decisions stand, then the board is named. */
  async function deviceEnrollIn(tx: Db, out: Outbox, input: ParsedEnrollInput, product: string): Promise<Enrollment> {
    const device = await findDevice(tx, input.serial);
    const latest = await latestDeploymentOf(tx, input.serial);
    if (device && latest && isClosedAfterSuccess(device, latest)) {
      throw new FleetError(
        'FLEET_DEVICE_IMAGED',
        `Board ${input.serial} was imaged successfully as ${latest.hostname} (deployment ${latest.id}); to image it again, an operator runs: rpi-deploy device reimage ${input.serial}`,
        { serial: input.serial, deploymentId: latest.id },
      );
    }
    const held = await activeAssignmentsOf(tx, input.serial);
    const matches = (a: (typeof held)[number]) =>
      (input.venue ?? a.venue_code) === a.venue_code && (input.product ?? a.product_code) === a.product_code;
    const [first] = held;
    if (first && !held.some(matches)) {
      const names = held.map((a) => a.hostname).join(', ');
      const target = `${input.venue ?? first.venue_code}/${input.product ?? first.product_code}`;
      throw new FleetError(
        'FLEET_DEVICE_NAMED_ELSEWHERE',
        `Board ${input.serial} holds ${names}; only an operator moves it to ${target}: rpi-deploy pool release ${first.hostname}`,
        { serial: input.serial, held: names },
      );
    }
    const enrollment = await enrollIn(tx, out, input);
    if (enrollment.deployment.product !== product) {
      throw new FleetError(
        'FLEET_ENROLL_RETRY',
        `The active batch changed while board ${input.serial} enrolled; enroll again`,
        { serial: input.serial },
      );
    }
    return enrollment;
  }

  /** Closes a deployment that cannot be planned, so the history says why, and hands back the reason. */
  async function refuse(tx: Db, out: Outbox, d: Deployment, err: FleetError): Promise<FleetError> {
    await advanceIn(tx, out, d.id, 'failed', { error: `${err.code}: ${err.message}` });
    return err;
  }

  function noImage(product: string): FleetError {
    return new FleetError(
      'FLEET_NO_ACTIVE_IMAGE',
      `Product ${product} has no active image; import one: rpi-deploy image add FILE --product ${product} --version V --activate`,
      {
        product,
      },
    );
  }

  /**
   * The manifest of a deployment's image, read before the write transaction: the catalogue reads
   * through the store's one connection, which the transaction holds.
   */
  async function manifestOf(deploymentId: number): Promise<Manifest | undefined> {
    const { imageId } = await deploymentIn(store.db, deploymentId);
    return imageId === null ? undefined : images.manifest(imageId);
  }

  /** Verified chunks are accepted only for chunks the board had to write. */
  async function recordVerified(
    tx: Db,
    out: Outbox,
    d: Deployment,
    manifest: Manifest | undefined,
    indexes: readonly number[],
  ): Promise<number> {
    if (d.imageId === null || !manifest) throw noImage(d.product);
    if (indexes.length > 0) {
      const { chunks } = manifest;
      const stray = indexes.find((i) => !chunks[i]?.used);
      if (stray !== undefined) {
        throw new FleetError(
          'FLEET_CHUNK_NOT_USED',
          `Chunk ${stray} is not a used chunk of this image (it has ${chunks.length})`,
          { index: stray },
        );
      }
      await insertVerifiedChunks(tx, d.serial, d.imageId, [...new Set(indexes)], out.now);
    }
    return countVerifiedChunks(tx, d.serial, d.imageId);
  }

  async function deploymentIn(tx: Db, id: number): Promise<Deployment> {
    const d = await findDeployment(tx, id);
    if (!d) throw new FleetError('FLEET_DEPLOYMENT_UNKNOWN', `Deployment ${id} does not exist`, { deploymentId: id });
    return d;
  }

  /** The seed's installer says `unknown` without a serial: its MAC (12 hex digits) stands in. */
  function seedSerial(serial: string | null | undefined, mac: string | null | undefined): string {
    if (serial?.trim().toLowerCase() !== SEED_UNKNOWN_SERIAL) return parseSerial(serial).serial;
    if (!mac) {
      throw new FleetError(
        'FLEET_SERIAL_INVALID',
        'serial_number is "unknown" and no mac_address came with it: the board cannot be told apart from others',
        {},
      );
    }
    return parseMac(mac).replaceAll(':', '');
  }

  /**
   * The delta hint (ChangedChunks): the chunks of `manifest` that differ from the image the board's
   * latest deployment wrote. None when there was none, when it did not succeed or is still open
   * (the card may then hold anything), or when its image is no longer stored. Read before enroll's
   * transaction: the image catalogue reads the store outside it.
   */
  async function changedSinceLast(serial: string, manifest: Manifest): Promise<ChangedChunks | undefined> {
    const last = await latestDeploymentOf(store.db, serial);
    if (last?.status !== 'success' || last.imageId === null || !(await images.has(last.imageId))) return undefined;
    return changedChunks(await images.manifest(last.imageId), manifest);
  }

  return {
    async enroll(raw) {
      const input = parseEnrollInput(raw);
      const { product, image } = await imageFor(input).catch((err: unknown) => publishRefusal(deps, input, err));
      const manifest = image && (await images.manifest(image.id));
      const changed = manifest && (await changedSinceLast(input.serial, manifest));
      const outcome = await unitOfWork(deps, async (tx, out) => {
        const enrollment = await deviceEnrollIn(tx, out, input, product);
        const d = enrollment.deployment;
        if (!image || !manifest) return { refused: await refuse(tx, out, d, noImage(product)) };
        const format = FORMAT_OF[manifest.boot?.osGeneration ?? 'unknown'];
        if (!format) {
          const why = `Image ${image.product} ${image.version} shows neither cloud-init nor firstrun on its boot partition, so its hostname cannot be set; use a Raspberry Pi OS image`;
          const err = new FleetError('FLEET_IMAGE_NOT_CUSTOMISABLE', why, { imageId: image.id });
          return { refused: await refuse(tx, out, d, err) };
        }
        const imaging = (await findProduct(tx, d.product))?.imaging ?? DEFAULT_IMAGING;
        await setDeploymentImage(tx, d.id, image.id, imaging);
        const token = newDeviceToken();
        await insertDeploymentToken(tx, d.id, deviceTokenHash(token), out.now);
        await deleteVerifiedChunks(tx, d.serial, { keepImageId: image.id });
        const plan: DeploymentPlan = {
          manifest,
          customisation: {
            format,
            hostname: d.hostname,
            instanceId: `rpi-deploy-${d.id}-${Date.parse(d.enrolledAt)}`,
            settings: await resolveFirstBoot(tx, d.venue, d.product),
          },
          verifiedChunks: await listVerifiedChunks(tx, d.serial, image.id),
          progressIntervalMs: options.progressIntervalMs,
          imaging,
          ...(imaging.delta && changed && { changedChunks: changed }),
        };
        return { enrollment: { ...enrollment, deployment: { ...d, imageId: image.id } }, plan, token };
      }).catch((err: unknown) => publishRefusal(deps, input, err));
      if ('refused' in outcome) throw outcome.refused as FleetError;
      return outcome;
    },

    authenticate: (token) => findDeploymentByTokenHash(store.db, deviceTokenHash(token)),

    async imageOf(deploymentId) {
      const deployment = await deploymentIn(store.db, deploymentId);
      if (isTerminal(deployment.status)) {
        throw new FleetError(
          'FLEET_DEPLOYMENT_ENDED',
          `Deployment ${deploymentId} ended (${deployment.status}) and its token with it; enroll again`,
          {
            deploymentId,
            status: deployment.status,
          },
        );
      }
      if (deployment.imageId === null) throw noImage(deployment.product);
      return { deployment, imageId: deployment.imageId, manifest: await images.manifest(deployment.imageId) };
    },

    async reportProgress(deploymentId, r) {
      const manifest = await manifestOf(deploymentId);
      return unitOfWork(deps, async (tx, out) => {
        let d = await deploymentIn(tx, deploymentId);
        if (isTerminal(d.status)) return { status: d.status, verifiedCount: 0 };
        const verifiedCount = await recordVerified(tx, out, d, manifest, r.verifiedChunks);
        // Most reports repeat the phase: only a change is worth a history row.
        if (r.phase !== d.status) d = (await advanceIn(tx, out, d.id, r.phase)).deployment;
        else if (Date.parse(out.now) - Date.parse(d.updatedAt) >= TOUCH_EVERY_MS) {
          await touchDeployment(tx, d.id, out.now);
        }
        out.announce('deployment.progress', {
          deploymentId: d.id,
          serial: d.serial,
          hostname: d.hostname,
          phase: d.status,
          bytesWritten: r.bytesWritten,
          bytesDone: r.bytesDone,
          bytesTotal: r.bytesTotal,
          rateBytesPerSec: r.rateBytesPerSec,
          chunksVerified: verifiedCount,
          ...(r.writeStats && { writeStats: r.writeStats }),
          ...(r.chunksFromPeers !== undefined && { chunksFromPeers: r.chunksFromPeers }),
        });
        return { status: d.status, verifiedCount };
      });
    },

    async reportResult(deploymentId, r) {
      const manifest = await manifestOf(deploymentId);
      const outcome = await unitOfWork(deps, async (tx, out) => {
        const d = await deploymentIn(tx, deploymentId);
        // A result repeated because its answer was lost changes nothing; a contradicting one is refused.
        if (isTerminal(d.status) && d.status === r.status) return { status: d.status };
        if (r.status === 'failed') {
          const { deployment } = await advanceIn(tx, out, d.id, 'failed', { error: `${r.code}: ${r.message}` });
          return { status: deployment.status };
        }
        // A success after the deployment ended otherwise meets the state machine's FLEET_DEPLOYMENT_FINISHED.
        if (isTerminal(d.status)) await advanceIn(tx, out, d.id, 'success');
        await recordVerified(tx, out, d, manifest, r.verifiedChunks);
        const onRecord = new Set(await listVerifiedChunks(tx, d.serial, d.imageId!));
        const missing = manifest!.chunks.filter((c) => c.used && !onRecord.has(c.index)).map((c) => c.index);
        if (missing.length > 0) {
          const message = `The board reported success, but ${missing.length} used chunk(s) were never reported verified (first: ${missing.slice(0, 5).join(', ')})`;
          const err = new FleetError('FLEET_RESULT_INCOMPLETE', message, { missing: missing.length });
          return { refused: await refuse(tx, out, d, err) };
        }
        if (r.writeStats) await setDeploymentWriteStats(tx, d.id, r.writeStats);
        const { deployment } = await advanceIn(tx, out, d.id, 'success');
        // The card now boots and changes: nothing on it counts as verified for a later re-image.
        await deleteVerifiedChunks(tx, d.serial, { keepImageId: null });
        return { status: deployment.status };
      });
      if ('refused' in outcome) throw outcome.refused as FleetError;
      return outcome;
    },

    async seedConfig(raw) {
      const serial = seedSerial(raw.serial, raw.mac);
      const input = parseEnrollInput({
        serial,
        macs: raw.mac ? [raw.mac] : [],
        venue: raw.venue ?? undefined,
        product: raw.product,
        ip: raw.ip,
      });
      const { product, image } = await imageFor(input).catch((err: unknown) => publishRefusal(deps, input, err));
      // Without an image the installer stops at a 404 and is run again later: the refusal is thrown
      // inside the transaction, after the checks that come first (venue, product, an imaged board),
      // so nothing is stored (no name claimed, no deployment opened); the live refusal event says why.
      return unitOfWork(deps, async (tx, out) => {
        const enrollment = await deviceEnrollIn(tx, out, input, product);
        if (!image) throw noImage(product);
        await setDeploymentImage(tx, enrollment.deployment.id, image.id, null);
        return { enrollment: { ...enrollment, deployment: { ...enrollment.deployment, imageId: image.id } }, image };
      }).catch((err: unknown) => publishRefusal(deps, input, err));
    },

    seedStatus: (r) =>
      unitOfWork(deps, async (tx, out): Promise<SeedStatusOutcome> => {
        const unmatched = async (
          note: string,
          serial: string | null,
          hostname: string | null,
        ): Promise<SeedStatusOutcome> => {
          const data = {
            serial: r.serial ?? null,
            mac: r.mac ?? null,
            status: r.status,
            hostname: r.hostname ?? null,
            message: r.errorMessage ?? r.message ?? null,
            note,
          };
          await out.record('seed.report', data, { serial });
          return { deployment: null, hostname };
        };
        let serial: string;
        try {
          serial = seedSerial(r.serial, r.mac);
        } catch (err) {
          if (!(err instanceof FleetError)) throw err;
          return unmatched(err.message, null, r.hostname ?? null);
        }
        const device = await findDevice(tx, serial);
        if (!device) return unmatched(`board ${serial} has never asked for its config`, null, r.hostname ?? null);
        if (r.status === 'starting')
          return unmatched('the installer started; its config request opens the deployment', serial, device.hostname);
        const latest = await latestDeploymentOf(tx, serial);
        if (!latest) return unmatched(`board ${serial} has no deployment`, serial, device.hostname);
        if (await hasDeploymentToken(tx, latest.id)) {
          return unmatched(
            `deployment ${latest.id} belongs to the v1 agent, which reports with its token`,
            serial,
            latest.hostname,
          );
        }
        const phase = PHASE_OF[r.status];
        if (isTerminal(latest.status)) {
          if (latest.status === phase) return { deployment: latest, hostname: latest.hostname };
          return unmatched(`deployment ${latest.id} already ended (${latest.status})`, serial, latest.hostname);
        }
        const reason = r.errorMessage ?? r.message ?? 'the installer reported failed without a reason';
        const { deployment } = await advanceIn(tx, out, latest.id, phase, { error: reason });
        return { deployment, hostname: deployment.hostname };
      }),

    failSilent: () =>
      unitOfWork(deps, async (tx, out) => {
        const before = new Date(Date.parse(out.now) - options.silenceMs).toISOString();
        const failed: Deployment[] = [];
        for (const d of await silentDeployments(tx, before)) {
          const ended = await setDeploymentStatus(tx, d.id, 'failed', `no report since ${d.updatedAt}`, out.now);
          await recordPhase(out, ended);
          failed.push(ended);
        }
        return failed;
      }),

    verifiedChunks: (serial, imageId) => listVerifiedChunks(store.db, serial, imageId),
  };
}
