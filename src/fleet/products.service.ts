import { checkSchema } from '../lib/validate.js';
import { ProductInput, ProductPatch, type Product } from '../protocol/fleet.js';
import { DEFAULT_IMAGING } from '../protocol/imaging.js';
import { FleetError, invalidInput } from './errors.js';
import { parsePattern, parseProductCode } from './hostname.js';
import {
  deleteProduct,
  findProduct,
  insertProduct,
  isProductUsed,
  listProducts,
  updateProductImaging,
} from './products.repo.js';
import { unitOfWork, type FleetDeps } from './unit-of-work.js';

export interface ProductService {
  list(): Promise<Product[]>;
  get(code: string): Promise<Product>;
  create(input: ProductInput): Promise<Product>;
  /** Changes how the product's boards write and verify their cards; what the patch leaves out stays. */
  update(code: string, patch: ProductPatch): Promise<Product>;
  /** Built-in products and products in use (pools, names, batches, images) cannot be deleted. */
  remove(code: string): Promise<void>;
}

export function createProductService(deps: FleetDeps): ProductService {
  const { store } = deps;
  return {
    list: () => listProducts(store.db),

    async get(code) {
      const productCode = parseProductCode(code);
      const product = await findProduct(store.db, productCode);
      if (!product) throw unknownProduct(productCode);
      return product;
    },

    async create(input) {
      const p = checkSchema(ProductInput, input, invalidInput);
      const code = parseProductCode(p.code);
      const pattern = p.hostnamePattern.trim();
      parsePattern(pattern);
      return unitOfWork(deps, async (tx, out) => {
        if (await findProduct(tx, code))
          throw new FleetError('FLEET_PRODUCT_EXISTS', `Product ${code} already exists`, { product: code });
        await insertProduct(tx, {
          code,
          name: p.name.trim(),
          hostname_pattern: pattern,
          builtin: 0,
          created_at: out.now,
          delta_reimage: (p.imaging?.delta ?? DEFAULT_IMAGING.delta) ? 1 : 0,
          verify_mode: p.imaging?.verify ?? DEFAULT_IMAGING.verify,
        });
        return (await findProduct(tx, code))!;
      });
    },

    async update(code, patch) {
      const p = checkSchema(ProductPatch, patch, invalidInput);
      const productCode = parseProductCode(code);
      return unitOfWork(deps, async (tx) => {
        const product = await findProduct(tx, productCode);
        if (!product) throw unknownProduct(productCode);
        await updateProductImaging(tx, productCode, { ...product.imaging, ...p.imaging });
        return (await findProduct(tx, productCode))!;
      });
    },

    async remove(code) {
      const productCode = parseProductCode(code);
      await unitOfWork(deps, async (tx) => {
        const product = await findProduct(tx, productCode);
        if (!product) throw unknownProduct(productCode);
        if (product.builtin)
          throw new FleetError('FLEET_PRODUCT_IN_USE', `Product ${productCode} is built in and cannot be deleted`, {
            product: productCode,
          });
        if (await isProductUsed(tx, productCode)) {
          throw new FleetError(
            'FLEET_PRODUCT_IN_USE',
            `Product ${productCode} is used by pools, names, batches or images; remove those first`,
            { product: productCode },
          );
        }
        await deleteProduct(tx, productCode);
      });
    },
  };
}

export function unknownProduct(code: string): FleetError {
  return new FleetError(
    'FLEET_PRODUCT_UNKNOWN',
    `Product ${code} does not exist; list products with: rpi-deploy product list`,
    { product: code },
  );
}
