import { fleetInitial } from './001-fleet.js';
import { reimage } from './002-reimage.js';
import { imagesStore } from './003-images.js';
import { deviceApi } from './004-device-api.js';
import { dhcpLeases } from './005-dhcp.js';
import { management } from './007-management.js';
import { netbootTokens } from './008-netboot.js';
import { imagingSettings } from './009-imaging.js';
import { captures } from './010-captures.js';
import type { Migration } from './types.js';

/** Every migration, in the order it is applied. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  fleetInitial,
  reimage,
  imagesStore,
  deviceApi,
  dhcpLeases,
  management,
  netbootTokens,
  imagingSettings,
  captures,
];
export type { Migration } from './types.js';
