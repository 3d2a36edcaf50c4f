import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * What a CLI call loads decides how long it takes (most of a call's time was loading every module).
 * Time is too noisy for a test on a shared machine, so this checks what is loaded; `npm run bench
 * -- cli` measures the time.
 */
let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

let traces = 0;

/** A module loader hook that writes every module URL Node loads through `import` to a file. */
const TRACE_HOOK = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) { appendFileSync(file, url + '\\n'); return next(url, context); }
`;

function loadedBy(args: string[]): { code: number | null; stdout: string; files: number; modules: string[] } {
  const hook = join(dir.path, 'trace-hook.mjs');
  const trace = join(dir.path, `trace-${++traces}.txt`);
  writeFileSync(hook, TRACE_HOOK);
  writeFileSync(trace, '');
  const options = JSON.stringify({ data: { file: trace } });
  const register = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hook).href)}, ${options});`;
  const hookArg = `data:text/javascript,${encodeURIComponent(register)}`;
  const r = spawnSync(process.execPath, ['--import', hookArg, CLI, ...args], {
    encoding: 'utf8',
    env: cleanEnv(),
    timeout: 60_000,
  });
  const files = readFileSync(trace, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file:'));
  return { code: r.status, stdout: r.stdout, files: files.length, modules: sourcesOf(files) };
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The source modules behind the loaded files: a file of the CLI bundle names each module it holds
 * in a `// path` line (esbuild's output), a file of tsc's build is its own module.
 */
function sourcesOf(urls: string[]): string[] {
  return urls.flatMap((url) => {
    if (!url.startsWith('file:')) return [];
    const path = relative(ROOT, fileURLToPath(url));
    if (!path.startsWith('dist/cli-bundle/')) return [path.replace(/^dist\/(.*)\.js$/, 'src/$1.ts')];
    const bundled = readFileSync(join(ROOT, path), 'utf8').matchAll(/^\/\/ ((?:src|node_modules)\/\S+)$/gm);
    return [...bundled].map((m) => m[1]!);
  });
}
const packagesIn = (sources: string[]) =>
  [...new Set(sources.flatMap((m) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1] ?? []))].sort();
const componentsIn = (sources: string[]) =>
  [...new Set(sources.flatMap((m) => /^src\/([^/]+)\/[^/]+\.ts$/.exec(m)?.[1] ?? []))].sort();
const commandsIn = (sources: string[]) => sources.filter((m) => m.startsWith('src/cli/commands/'));

describe('CLI start-up', () => {
  it.each(['--version', '--help', 'help', ''])('rpi-deploy %s loads commander and nothing else', (arg) => {
    const r = loadedBy(arg === '' ? [] : [arg]);
    expect(r.code).toBe(0);
    expect(packagesIn(r.modules)).toEqual(['commander']);
    expect(componentsIn(r.modules)).toEqual(['cli', 'lib']);
  });

  it('venue list loads the database and the domain, not the servers, network boot or another command', () => {
    const r = loadedBy(['venue', 'list', '--data-dir', join(dir.path, 'data')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No venues yet');
    // Bundled, typebox and kysely are a few files instead of about 940 (each file costs a read and a parse).
    expect(r.files).toBeLessThan(100);
    for (const pkg of ['fastify', '@fastify/type-provider-typebox', 'ajv'])
      expect(packagesIn(r.modules)).not.toContain(pkg);
    for (const component of ['management', 'device-api', 'netboot', 'operations', 'agent', 'simulate'])
      expect(componentsIn(r.modules)).not.toContain(component);
    expect(commandsIn(r.modules)).toEqual(['src/cli/commands/venue.ts']);
  });

  it('help for one command loads that command only, and the help stays whole', () => {
    const r = loadedBy(['venue', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Commands:\n {2}list \[options\] +list venues/);
    expect(commandsIn(r.modules)).toEqual(['src/cli/commands/venue.ts']);
  });
});
