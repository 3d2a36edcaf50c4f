// `npm start`'s build: each part of `npm run build` runs only when one of its inputs is newer than
// its last build here (or its output is missing), so a start with nothing changed builds nothing.
// `npm run build` stays the full build (CI). A stamp file records when each part was last built:
// esbuild leaves an output file untouched when its content is the same, so output times cannot say.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

/** Every file under `paths` (files or folders), skipping build outputs. */
function files(paths) {
  return paths.flatMap((path) => {
    if (!existsSync(path)) return [];
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path)
      .filter((name) => name !== 'dist' && name !== 'node_modules')
      .flatMap((name) => files([join(path, name)]));
  });
}

const mtime = (path) => statSync(path).mtimeMs;

const STAMPS = 'dist/.build-stamps';
const stampOf = (step) => join(STAMPS, step.name.replace(/\W+/g, '-'));

function stale(step) {
  const stamp = stampOf(step);
  if (!existsSync(stamp) || !existsSync(step.output)) return true;
  return Math.max(...files(step.inputs).map(mtime)) >= mtime(stamp);
}

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
const bin = (name) => join(root, 'node_modules/.bin', name);
/** What every part depends on besides its sources: the packages installed and the build settings. */
const COMMON = ['package.json', 'package-lock.json', 'tsconfig.json'];

const steps = [
  {
    name: 'server (tsc)',
    // tsc -b decides for itself from its build info (dist/tsconfig.build.tsbuildinfo).
    build: () => run(bin('tsc'), ['-b', 'tsconfig.build.json']),
  },
  {
    name: 'CLI bundle',
    inputs: ['src', 'scripts/bundle-cli.mjs', ...COMMON],
    output: 'dist/cli-bundle/main.js',
    build: () => run(process.execPath, ['scripts/bundle-cli.mjs']),
  },
  {
    name: 'agent bundle',
    inputs: ['src', 'scripts/bundle-agent.mjs', ...COMMON],
    output: 'dist/rpi-deploy-agent.mjs',
    build: () => run(process.execPath, ['scripts/bundle-agent.mjs']),
  },
  {
    name: 'web UI',
    inputs: ['ui', 'src/protocol', ...COMMON],
    output: 'ui/dist/index.html',
    build: () => run(bin('vite'), ['build', '--config', 'ui/vite.config.ts', '--logLevel', 'warn']),
  },
];

mkdirSync(STAMPS, { recursive: true });
for (const step of steps) {
  if (step.inputs && !stale(step)) {
    process.stderr.write(`${step.name}: up to date\n`);
    continue;
  }
  // The stamp is the time the build started: an input changed while it ran is newer, so built next time.
  const started = new Date();
  step.build();
  if (step.inputs) {
    writeFileSync(stampOf(step), '');
    utimesSync(stampOf(step), started, started);
  }
}
