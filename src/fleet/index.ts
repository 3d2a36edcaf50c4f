import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { FleetEvent } from '../protocol/events.js';
import type { Store } from '../store/index.js';
import { createBatchService, type BatchService } from './batches.service.js';
import { createEnrollmentService, type EnrollmentService } from './enrollment.service.js';
import { createFirstBootService, type FirstBootService } from './firstboot.service.js';
import { createPoolService, type PoolService } from './pools.service.js';
import { createProductService, type ProductService } from './products.service.js';
import { createRecordsService, type RecordsService } from './records.service.js';
import { createSeedImportService, type SeedImportService } from './seed-import.service.js';
import { createVenueService, type VenueService } from './venues.service.js';

/** Venues, products, hostname pools, batches, boards and their deployments. No HTTP, no sockets. */
export interface Fleet {
  venues: VenueService;
  products: ProductService;
  pools: PoolService;
  batches: BatchService;
  enrollment: EnrollmentService;
  records: RecordsService;
  firstBoot: FirstBootService;
  /** `rpi-deploy import-seed`: a seed installation's venues, pools, batches and history. */
  seedImport: SeedImportService;
}

export function createFleet(deps: {
  store: Store;
  events: EventBus<FleetEvent>;
  log: Logger;
  clock?: () => Date;
}): Fleet {
  const full = { ...deps, clock: deps.clock ?? (() => new Date()) };
  return {
    venues: createVenueService(full),
    products: createProductService(full),
    pools: createPoolService(full),
    batches: createBatchService(full),
    enrollment: createEnrollmentService(full),
    records: createRecordsService(full),
    firstBoot: createFirstBootService(full),
    seedImport: createSeedImportService(full),
  };
}

export { FLEET_ERROR_KINDS, FleetError, type FleetErrorCode } from './errors.js';
export { parseSerial, parseMac, parseVenueCode, parseProductCode, renderHostname, parsePattern } from './hostname.js';
export type { EnrollInput } from './enrollment.service.js';
export type { PoolImportInput } from './pools.service.js';
export type { BatchAction } from './batches.service.js';
export {
  createDeploymentService,
  type CatalogImage,
  type DeploymentService,
  type DeploymentServiceOptions,
  type DeviceEnrollment,
  type ImageCatalog,
  type SeedConfigInput,
  type SeedStatusInput,
  type SeedStatusOutcome,
} from './deployments.service.js';
export type { FirstBootService } from './firstboot.service.js';
export { readSeedInstallation, type SeedInstallation } from './seed-source.repo.js';
export type { SeedImportSummary } from './seed-import.service.js';
