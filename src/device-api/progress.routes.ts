import Type from 'typebox';
import type { Fleet } from '../fleet/index.js';
import type { EventBus } from '../lib/event-bus.js';
import type { HttpServer } from '../lib/http-server.js';
import { ProgressReply, ProgressReport, ResultReply, ResultReport } from '../protocol/agent-api.js';
import type { FleetEvent } from '../protocol/events.js';
import type { Deployment } from '../protocol/fleet.js';
import { authenticatedDeployment } from './auth.js';
import { DeviceApiError } from './errors.js';
import type { ManifestSource } from './manifest-cache.js';

export interface ProgressRouteDeps {
  fleet: Fleet;
  manifests: ManifestSource;
  events: EventBus<FleetEvent>;
}

const DeploymentParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const isFinished = (d: Deployment) => d.status === 'success' || d.status === 'failed';

/**
 * Progress and result of a deployment. Progress is a live event (not history), except a phase
 * change, which the fleet records. Success is accepted only when the server has on record that
 * every used chunk of the image was verified on the card: a board cannot claim what it did not show.
 */
export function registerProgressRoutes(app: HttpServer, deps: ProgressRouteDeps): void {
  const { fleet, manifests, events } = deps;

  /** Records verified chunks after checking they are chunks the board had to write. */
  async function recordVerified(d: Deployment, indexes: readonly number[]): Promise<number> {
    if (d.imageId === null) throw new DeviceApiError('DEVICE_NO_IMAGE', `Deployment ${d.id} has no image`, { deploymentId: d.id });
    if (indexes.length === 0) return fleet.sessions.countVerified(d.serial, d.imageId);
    const { chunks } = await manifests(d.imageId);
    const stray = indexes.find((i) => !chunks[i]?.used);
    if (stray !== undefined) throw new DeviceApiError('DEVICE_CHUNK_NOT_USED', `Chunk ${stray} is not a used chunk of this image (it has ${chunks.length})`, { index: stray });
    return fleet.sessions.recordVerified(d, indexes);
  }

  app.post('/v1/deployments/:id/progress', { schema: { params: DeploymentParams, body: ProgressReport, response: { 200: ProgressReply } } }, async (req) => {
    let d = await authenticatedDeployment(req, fleet.sessions, req.params.id);
    const r = req.body;
    if (isFinished(d)) return { status: d.status, verifiedCount: 0 };
    const verifiedCount = await recordVerified(d, r.verifiedChunks);
    // Most reports repeat the phase: only a change is worth a write (and a history row).
    if (r.phase !== d.status) d = (await fleet.enrollment.advance(d.id, r.phase)).deployment;
    events.publish({
      seq: null,
      at: new Date().toISOString(),
      type: 'deployment.progress',
      data: {
        deploymentId: d.id,
        serial: d.serial,
        hostname: d.hostname,
        phase: d.status,
        bytesWritten: r.bytesWritten,
        bytesDone: r.bytesDone,
        bytesTotal: r.bytesTotal,
        rateBytesPerSec: r.rateBytesPerSec,
        chunksVerified: verifiedCount,
      },
    });
    return { status: d.status, verifiedCount };
  });

  app.post('/v1/deployments/:id/result', { schema: { params: DeploymentParams, body: ResultReport, response: { 200: ResultReply } } }, async (req) => {
    const d = await authenticatedDeployment(req, fleet.sessions, req.params.id);
    const r = req.body;
    // A result repeated because its answer was lost changes nothing; a contradicting one is refused by the fleet.
    if (isFinished(d) && d.status === r.status) return { status: d.status };
    if (r.status === 'failed') {
      return { status: (await fleet.enrollment.advance(d.id, 'failed', { error: `${r.code}: ${r.message}` })).deployment.status };
    }
    await recordVerified(d, r.verifiedChunks);
    const onRecord = new Set(await fleet.sessions.verifiedChunks(d.serial, d.imageId!));
    const missing = (await manifests(d.imageId!)).chunks.filter((c) => c.used && !onRecord.has(c.index)).map((c) => c.index);
    if (missing.length > 0) {
      const message = `The board reported success, but ${missing.length} used chunk(s) were never reported verified (first: ${missing.slice(0, 5).join(', ')})`;
      await fleet.enrollment.advance(d.id, 'failed', { error: `DEVICE_RESULT_INCOMPLETE: ${message}` });
      throw new DeviceApiError('DEVICE_RESULT_INCOMPLETE', message, { missing: missing.length });
    }
    const { deployment } = await fleet.enrollment.advance(d.id, 'success');
    // The card now boots and changes: nothing on it counts as verified for a later re-image.
    await fleet.sessions.forgetVerified(d.serial);
    return { status: deployment.status };
  });
}
