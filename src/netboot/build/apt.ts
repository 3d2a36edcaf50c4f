import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BuildError } from './errors.js';
import { runTool } from './run-tool.js';

/**
 * Debian arm64 packages from the host's configured archive, through apt with a private state
 * directory: the host's dpkg configuration is never touched (no `dpkg --add-architecture`), and
 * everything apt writes stays under `dir` (docs/operator.md, docs/architecture.md flow 1).
 */
export interface AptCache {
  /** Refreshes the arm64 package lists if they are older than `maxAgeMs` (or missing). */
  update(maxAgeMs: number): Promise<void>;
  /** The candidate version of `name` as apt sees it. */
  show(name: string): Promise<DebInfo>;
  /** The .deb of `name` in the cache, downloaded if missing or not matching the archive's SHA-256. */
  fetch(name: string): Promise<FetchedDeb>;
  /** Unpacks a .deb's files into `into` (dpkg-deb -x; no maintainer scripts run). */
  extract(deb: FetchedDeb, into: string): Promise<void>;
}

export interface DebInfo {
  name: string;
  version: string;
  /** Path in the archive, e.g. `pool/main/b/busybox/busybox-static_…_arm64.deb`. */
  filename: string;
  sha256: string;
  depends: string[];
}

export interface FetchedDeb extends DebInfo {
  file: string;
}

/** Parses one `apt-cache show` record. */
export function parseAptRecord(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let key = '';
  for (const line of text.split('\n')) {
    if (line === '') {
      if (Object.keys(fields).length > 0) break;
      continue;
    }
    if (/^\s/.test(line) && key) fields[key] += `\n${line.trim()}`;
    else {
      const at = line.indexOf(':');
      if (at <= 0) continue;
      key = line.slice(0, at);
      fields[key] = line.slice(at + 1).trim();
    }
  }
  return fields;
}

/** Package names a `Depends:` field lists, first alternative of each. */
export function dependencyNames(depends: string): string[] {
  return depends
    .split(',')
    .map(
      (d) =>
        d
          .split('|')[0]!
          .trim()
          .split(/[\s(:]/)[0]!,
    )
    .filter(Boolean);
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function createAptCache(dir: string, onProgress: (line: string) => void): AptCache {
  const state = join(dir, 'state');
  const lists = join(state, 'lists');
  const archives = join(dir, 'archives');
  for (const d of [join(lists, 'partial'), join(archives, 'partial')]) mkdirSync(d, { recursive: true });
  if (!existsSync(join(state, 'status'))) writeFileSync(join(state, 'status'), '');
  const options = [
    '-o',
    'APT::Architecture=arm64',
    '-o',
    'APT::Architectures=arm64',
    '-o',
    `Dir::State=${state}`,
    '-o',
    `Dir::State::Lists=${lists}`,
    '-o',
    `Dir::State::status=${join(state, 'status')}`,
    '-o',
    `Dir::Cache=${join(dir, 'cache')}`,
    '-o',
    `Dir::Cache::Archives=${archives}`,
    '-o',
    'Debug::NoLocking=1',
    // The download is done as the caller; apt's _apt sandbox user may not reach our directory.
    '-o',
    'APT::Sandbox::User=root',
  ];
  const stamp = join(state, 'updated');
  const apt = { code: 'NETBOOT_BUILD_APT_FAILED' as const };

  return {
    async update(maxAgeMs) {
      if (existsSync(stamp) && Date.now() - statSync(stamp).mtimeMs < maxAgeMs) return;
      onProgress('apt: fetching the arm64 package lists');
      await runTool('apt-get', [...options, '-q', 'update'], {
        ...apt,
        what: 'Updating the arm64 package lists (apt-get update)',
      });
      writeFileSync(stamp, new Date().toISOString());
    },

    async show(name) {
      const out = await runTool('apt-cache', [...options, 'show', '--no-all-versions', `${name}:arm64`], {
        ...apt,
        what: `Looking up the arm64 package ${name}`,
      });
      const f = parseAptRecord(out);
      if (!f['Version'] || !f['Filename'] || !f['SHA256']) {
        throw new BuildError(
          'NETBOOT_BUILD_APT_FAILED',
          `apt knows no downloadable arm64 package ${name}; check the Debian sources in /etc/apt`,
          { name },
        );
      }
      return {
        name,
        version: f['Version'],
        filename: f['Filename'],
        sha256: f['SHA256'],
        depends: dependencyNames(f['Depends'] ?? ''),
      };
    },

    async fetch(name) {
      const info = await this.show(name);
      const file = join(archives, basename(info.filename));
      if (existsSync(file) && (await sha256Of(file)) === info.sha256) return { ...info, file };
      onProgress(`apt: downloading ${name} ${info.version}`);
      // apt-get download names the file after the version (an epoch's ':' becomes %3a): one download per empty directory.
      const partial = join(archives, 'partial', name);
      await rm(partial, { recursive: true, force: true });
      mkdirSync(partial, { recursive: true });
      await runTool('apt-get', [...options, '-q', 'download', `${name}:arm64=${info.version}`], {
        ...apt,
        cwd: partial,
        what: `Downloading ${name}`,
      });
      const [downloaded] = (await readdir(partial)).filter((f) => f.endsWith('.deb'));
      const got = downloaded ? join(partial, downloaded) : '';
      if (!got || (await sha256Of(got)) !== info.sha256) {
        await rm(partial, { recursive: true, force: true });
        throw new BuildError(
          'NETBOOT_BUILD_APT_FAILED',
          `The downloaded ${name} does not match the archive's SHA-256; try again`,
          { name },
        );
      }
      await rename(got, file);
      await rm(partial, { recursive: true, force: true });
      return { ...info, file };
    },

    async extract(deb, into) {
      mkdirSync(into, { recursive: true });
      await runTool('dpkg-deb', ['-x', deb.file, into], { ...apt, what: `Unpacking ${deb.name}` });
    },
  };
}
