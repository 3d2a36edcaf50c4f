// Apart from app.ts so that the CLI's data commands open the database without loading the HTTP servers.
import { join } from 'node:path';
import type { Config } from './config/index.js';
import {
  createDeploymentService,
  createFleet,
  parseSerial,
  type DeploymentService,
  type Fleet,
} from './fleet/index.js';
import {
  cachedManifests,
  createCaptureService,
  createImageService,
  sanitiseImage,
  type CaptureService,
  type ImageService,
} from './images/index.js';
import { createEventBus, type EventBus } from './lib/event-bus.js';
import type { Logger } from './lib/logger.js';
import { makePrivateTree } from './lib/private-dir.js';
import type { FleetEvent } from './protocol/events.js';
import { PROGRESS_INTERVAL_MS } from './protocol/progress.js';
import { openSqliteStore, type Store } from './store/index.js';

/** The components without any listener: what the CLI's data commands need. */
export interface Core {
  config: Readonly<Config>;
  log: Logger;
  store: Store;
  events: EventBus<FleetEvent>;
  fleet: Fleet;
  images: ImageService;
  /** Boards marked for capture, their uploads, and the image versions assembled from them. */
  captures: CaptureService;
  /** The rules of a board's deployment, shared by both device contracts. */
  deployments: DeploymentService;
  close(): Promise<void>;
}

export const DATABASE_FILE = 'rpi-deploy.db';

/** Composition root, part one: database, event stream, domain components. */
export async function openCore(config: Readonly<Config>, log: Logger): Promise<Core> {
  // The database holds password hashes and Wi-Fi PSKs; installations before 0700/0600 get fixed here.
  const tightened = makePrivateTree(config.dataDir);
  if (tightened > 0)
    log.info(
      { dataDir: config.dataDir, entries: tightened },
      'made the data directory private: 0700 directories, 0600 files',
    );
  const store = await openSqliteStore({ file: join(config.dataDir, DATABASE_FILE), log });
  const events = createEventBus<FleetEvent>(log);
  events.subscribe((e) =>
    e.seq === null
      ? log.debug({ event: e.type, ...e.data }, e.type)
      : log.info({ event: e.type, seq: e.seq, ...e.data }, e.type),
  );
  const fleet = createFleet({ store, events, log });
  let images: ImageService;
  try {
    images = await createImageService({ store, products: fleet.products, dataDir: config.dataDir });
    // Whatever a killed import left behind goes before anything else runs.
    const recovered = await images.recover();
    if (recovered.stagingRemoved + recovered.filesRemoved > 0)
      log.info(recovered, 'removed what interrupted image imports left');
  } catch (err) {
    await store.close();
    throw err;
  }
  const captures = createCaptureService({
    store,
    images,
    products: fleet.products,
    parseSerial: (serial) => parseSerial(serial).serial,
    sanitise: sanitiseImage,
    events,
    dataDir: config.dataDir,
    log,
  });
  // An assembly the last run left unfinished starts again; chunks no open capture needs go.
  await captures.recover();
  const deployments = createDeploymentService({
    store,
    events,
    log,
    images: {
      active: (product) => images.active(product),
      manifest: cachedManifests(images),
      has: async (id) => (await images.list()).some((i) => i.id === id),
    },
    options: { silenceMs: config.device.silenceMinutes * 60_000, progressIntervalMs: PROGRESS_INTERVAL_MS },
  });
  return {
    config,
    log,
    store,
    events,
    fleet,
    images,
    captures,
    deployments,
    async close() {
      await captures.close();
      await images.close();
      await store.close();
    },
  };
}
