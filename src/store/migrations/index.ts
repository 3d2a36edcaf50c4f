import { fleetInitial } from './001-fleet.js';
import { reimage } from './002-reimage.js';
import { imagesStore } from './003-images.js';
import { deviceApi } from './004-device-api.js';
import { management } from './007-management.js';
import type { Migration } from './types.js';

/** Every migration, in the order it is applied. Append only. */
export const MIGRATIONS: readonly Migration[] = [fleetInitial, reimage, imagesStore, deviceApi, management];
export type { Migration } from './types.js';
