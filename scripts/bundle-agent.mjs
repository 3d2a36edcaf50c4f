// Bundles the on-board agent into one file (dist/rpi-deploy-agent.mjs) for the board's Node
// (20 to 24), and fails if anything server-only slipped into it.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const AGENT_BUNDLE = 'dist/rpi-deploy-agent.mjs';

/** What the board must never carry: the server's web stack, database, logging and CLI parser, and native addons. */
const FORBIDDEN =
  /(^|\/)(node_modules\/(fastify|@fastify|better-sqlite3|kysely|pino|commander|zstd-napi|yauzl|ajv)\/|src\/(store|fleet|images|device-api|management|netboot|cli|config)\/)|\.node$/;

const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/agent/bundle-entry.ts'],
  outfile: AGENT_BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  metafile: true,
  logLevel: 'warning',
});

const inputs = Object.keys(result.metafile.inputs);
const bad = inputs.filter((p) => FORBIDDEN.test(p));
if (bad.length > 0) {
  console.error(`The agent bundle must not contain server-only code:\n  ${bad.join('\n  ')}`);
  process.exit(1);
}
