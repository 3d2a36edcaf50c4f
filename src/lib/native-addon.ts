import { createRequire } from 'node:module';

/**
 * Loads one of the addons under native/ (built by `npm ci`) on first use, once. When it is not
 * built, `missing` turns the loader's message into the component's own error, which tells the
 * operator how to build it.
 */
export function nativeAddon<T>(
  name: 'dhcp-socket' | 'tftp-socket' | 'sparse-file',
  missing: (message: string, cause: unknown) => Error,
): () => T {
  let addon: T | undefined;
  return () => {
    try {
      addon ??= createRequire(import.meta.url)(
        `../../native/${name}/build/Release/${name.replace('-', '_')}.node`,
      ) as T;
      return addon;
    } catch (cause) {
      throw missing(
        `${(cause as Error).message}; run "npm ci" (or "npm run install") in the rpi-deploy folder: it needs python3, make and a C compiler`,
        cause,
      );
    }
  };
}
