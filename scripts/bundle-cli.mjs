// Bundles the CLI (dist/cli-bundle/, code-split per command) after tsc has built dist/. Node
// resolves and reads each module file by itself: typebox alone is about 700 files and kysely 260,
// which made every CLI call take most of a second before it did anything. Bundled, they load in
// one read each. What is native, server-only or CommonJS stays in node_modules.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const OUTDIR = 'dist/cli-bundle';
/** Bundled: ESM packages of many files. The others (CommonJS, native, server-only) load from node_modules. */
const BUNDLED = new Set(['typebox', 'kysely', 'yaml', '@fastify/type-provider-typebox']);

const pkg = JSON.parse(await readFile(`${root}/package.json`, 'utf8'));
const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name));

/**
 * Modules that find files next to themselves (package.json, the UI, workers, native addons, the
 * agent bundle) see the URL tsc's build gives them in dist/, so those paths hold in the bundle.
 */
const ownUrls = {
  name: 'own-urls',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const built = relative(`${root}/src`, args.path).replace(/\.ts$/, '.js');
      const fromBundle = relative(`${root}/${OUTDIR}`, `${root}/dist/${built}`);
      const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
      return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir: OUTDIR,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  plugins: [ownUrls],
  sourcemap: true,
  legalComments: 'none',
  // Bundled CommonJS (yaml's Node build) requires Node's own modules.
  banner: {
    js: "import { createRequire as cliRequire } from 'node:module'; const require = cliRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
