import { pbkdf2Sync } from 'node:crypto';
import type { Db } from '../store/index.js';
import { checkSchema } from '../lib/validate.js';
import { FirstBootSettingsInput, type FirstBootScope, type FirstBootSettings } from '../protocol/firstboot.js';
import { invalidInput } from './errors.js';
import { deleteFirstBootSettings, findFirstBootSettings, upsertFirstBootSettings } from './firstboot.repo.js';
import { parseProductCode, parseVenueCode } from './hostname.js';
import { findProduct } from './products.repo.js';
import { unknownProduct } from './products.service.js';
import { unitOfWork, type FleetDeps } from './unit-of-work.js';
import { findVenue } from './venues.repo.js';
import { unknownVenue } from './venues.service.js';

/**
 * First-boot settings per product (typically the user and SSH keys) and per venue (typically
 * Wi-Fi and timezone). A board gets its product's settings with its venue's laid over them, field
 * by field.
 */
export interface FirstBootService {
  get(scope: FirstBootScope, code: string): Promise<FirstBootSettings>;
  /** Replaces the settings of a product or venue; a Wi-Fi passphrase is stored as its PSK only. */
  set(scope: FirstBootScope, code: string, input: FirstBootSettingsInput): Promise<FirstBootSettings>;
  clear(scope: FirstBootScope, code: string): Promise<void>;
  /** What a board of this product at this venue gets. */
  resolve(venue: string, product: string): Promise<FirstBootSettings>;
}

/** WPA2-PSK from a passphrase (IEEE 802.11i: PBKDF2-HMAC-SHA1, SSID as salt, 4096 rounds, 256 bits), as Imager stores it. */
export function wpaPsk(ssid: string, passphrase: string): string {
  return pbkdf2Sync(passphrase, ssid, 4096, 32, 'sha1').toString('hex');
}

export function createFirstBootService(deps: FleetDeps): FirstBootService {
  const { store } = deps;

  async function canonical(tx: FleetDeps['store']['db'], scope: FirstBootScope, code: string): Promise<string> {
    if (scope === 'venue') {
      const venue = parseVenueCode(code);
      if (!(await findVenue(tx, venue))) throw unknownVenue(venue);
      return venue;
    }
    const product = parseProductCode(code);
    if (!(await findProduct(tx, product))) throw unknownProduct(product);
    return product;
  }

  return {
    async get(scope, code) {
      return (await findFirstBootSettings(store.db, scope, await canonical(store.db, scope, code))) ?? {};
    },

    set(scope, code, input) {
      const s = checkSchema(FirstBootSettingsInput, input, invalidInput);
      const { wifi, ...rest } = s;
      const settings: FirstBootSettings = {
        ...rest,
        ...(wifi !== undefined && {
          wifi: wifi && {
            ssid: wifi.ssid,
            country: wifi.country,
            ...(wifi.hidden !== undefined && { hidden: wifi.hidden }),
            psk: wifi.passphrase ? wpaPsk(wifi.ssid, wifi.passphrase) : null,
          },
        }),
      };
      return unitOfWork(deps, async (tx, out) => {
        await upsertFirstBootSettings(tx, scope, await canonical(tx, scope, code), settings, out.now);
        return settings;
      });
    },

    clear: (scope, code) =>
      unitOfWork(deps, async (tx) => deleteFirstBootSettings(tx, scope, await canonical(tx, scope, code))),

    resolve: (venue, product) => resolveFirstBoot(store.db, venue, product),
  };
}

/** A venue's first-boot settings over its product's. */
export async function resolveFirstBoot(db: Db, venue: string, product: string): Promise<FirstBootSettings> {
  const forProduct = (await findFirstBootSettings(db, 'product', product)) ?? {};
  const forVenue = (await findFirstBootSettings(db, 'venue', venue)) ?? {};
  return { ...forProduct, ...forVenue };
}
