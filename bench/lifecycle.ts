/**
 * Issue 14 "Real size" beyond import: diff and capture on the ≥ 8 GB, ≥ 300,000-file image
 * (realSizePiImage, or `--image 2g` for largePiImage as a second size point), each phase's time and
 * peak RSS per process. Memory must stay flat with file count and image size.
 *
 * Version A is a copy of the cached image with a golden board's identity planted under /etc.
 * 1. Version B is A with a package upgrade's worth of changes made with `debugfs -w` on a copy
 *    (files rewritten, removed and added across the root). Both are imported (`image add`, its own
 *    process each), then `image diff A B --json` runs; the bench fails unless the root's listed
 *    files are exactly the ones changed (plus their directories).
 * 2. A's sparse file behind a read-only loop device is the card; `rpi-deploy serve` runs on the
 *    bench's data directory and the bundled agent on Node 24 captures the card into it. The
 *    agent's peak RSS comes from GNU `time -v`, the server's from its VmHWM after it imported the
 *    capture. The captured version's used chunks must equal A's except those sanitising changed.
 *
 * Usage: npm run bench -- lifecycle-large [--image real|2g] [--only capture] [--cpu-prof DIR]
 * (`--only capture` skips version B, its import and the diff; `--cpu-prof` writes the server's V8
 * CPU profile of the capture into DIR.)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../src/app.js';
import type { AgentResult } from '../src/agent/index.js';
import type { ImageDiff } from '../src/protocol/image-diff.js';
import type { Manifest } from '../src/protocol/manifest.js';
import { AGENT_BUNDLE, NODE24 } from '../test/helpers/agent.js';
import { CLI, loopbackListen, spawnServe } from '../test/helpers/cli.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { largePiImage, realSizePiImage, type CopiedTreesImage } from './large-pi-image.js';
import { fmt, measureVerbose, peakRssMiBOf, type Measured } from './proc.js';

const MiB = 1024 * 1024;
/** A package upgrade's worth: files rewritten and removed, spread over the whole root, and new ones. */
const REWRITTEN = 150;
const REMOVED = 100;
const ADDED = 100;
const ADDED_BYTES = MiB;
/** Files this size range make the rewrites about 100 MB; smaller ones would be lost among the added. */
const MIN_KIB = 64;
const MAX_KIB = 4096;
const ROOT_PARTITION = 2;
const SERIAL = 'c0ffee14';
/** Sanitising rewrites a few files, directories, bitmaps and inode tables: more than this is a fault. */
const SANITISE_CHUNKS_MAX = 64;

const sh = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * MiB }).toString();

interface Update {
  rewritten: string[];
  removed: string[];
  added: string[];
  bytes: number;
}

/**
 * Picks the files an upgrade touches from the host trees the image's root was copied from: regular
 * files with one link (removing one name of a hard-linked file frees no blocks), names debugfs
 * takes unquoted, every n-th of the sorted list so all copies and directories get some.
 */
function planUpdate(image: CopiedTreesImage): { rewritten: string[]; removed: string[]; sizes: Map<string, number> } {
  const pool: { path: string; bytes: number }[] = [];
  for (const tree of image.trees) {
    const found = sh('find', [
      tree.source,
      '-type',
      'f',
      '-links',
      '1',
      '-size',
      `+${MIN_KIB}k`,
      '-size',
      `-${MAX_KIB}k`,
      '-printf',
      '%s %p\\n',
    ]);
    for (const line of found.trim().split('\n')) {
      const [bytes, host] = [Number(line.slice(0, line.indexOf(' '))), line.slice(line.indexOf(' ') + 1)];
      if (!/^[\w./+@-]+$/.test(host)) continue;
      pool.push({ path: `/${tree.inImage}${host.slice(tree.source.length)}`, bytes });
    }
  }
  pool.sort((a, b) => (a.path < b.path ? -1 : 1));
  const wanted = REWRITTEN + REMOVED;
  if (pool.length < wanted) throw new Error(`only ${pool.length} candidate files in the image's trees`);
  const step = Math.floor(pool.length / wanted);
  const picked = Array.from({ length: wanted }, (_, i) => pool[i * step]!);
  return {
    rewritten: picked.filter((_, i) => i % 5 < 3).map((f) => f.path),
    removed: picked.filter((_, i) => i % 5 >= 3).map((f) => f.path),
    sizes: new Map(picked.map((f) => [f.path, f.bytes])),
  };
}

/** Runs debugfs commands on the root filesystem of `path`, writable (never mounted). */
function debugfsWrite(path: string, rootOffsetBytes: number, commands: string[], scratch: string, what: string): void {
  const script = join(scratch, `${what.replaceAll(' ', '-')}.debugfs`);
  writeFileSync(script, `${commands.join('\n')}\n`);
  const out = execFileSync('debugfs', ['-w', '-f', script, `${path}?offset=${rootOffsetBytes}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * MiB,
  });
  // debugfs reports a failed command on stdout after echoing it, and exits 0 all the same.
  const failed = out
    .toString()
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('debugfs') && !/^Allocated inode: \d+$/.test(l));
  if (failed.length > 0) throw new Error(`debugfs could not make ${what}:\n${failed.slice(0, 20).join('\n')}`);
}

/**
 * Version A: the cached image (a copy: it is never changed) with a golden board's identity and
 * traces under /etc, /root and /var, which a capture's sanitising resets.
 */
function makeVersionA(image: CopiedTreesImage, path: string, scratch: string): void {
  const planted: Record<string, string> = {
    '/etc/hostname': 'raspberrypi\n',
    '/etc/machine-id': '0123456789abcdef0123456789abcdef\n',
    '/etc/ssh/ssh_host_ed25519_key': 'golden board private key\n',
    '/root/.bash_history': 'sudo apt upgrade\n',
    '/var/log/syslog': 'golden board boot log\n'.repeat(4096),
  };
  const commands = ['mkdir /etc', 'mkdir /etc/ssh', 'mkdir /root', 'mkdir /var', 'mkdir /var/log'];
  for (const [inImage, text] of Object.entries(planted)) {
    const host = join(scratch, `planted${commands.length}`);
    writeFileSync(host, text);
    commands.push(`cd ${dirname(inImage)}`, `write ${host} ${inImage.slice(dirname(inImage).length + 1)}`);
  }
  sh('cp', ['--sparse=always', image.path, path]);
  debugfsWrite(path, image.rootOffsetBytes, commands, scratch, 'version A');
}

/**
 * Version B: a copy of A with files rewritten (removed, then written again), new files added, and
 * files removed last, so no write reuses their blocks and only their inodes tell them gone.
 */
function makeVersionB(image: CopiedTreesImage, a: string, path: string, scratch: string): Update {
  const { rewritten, removed, sizes } = planUpdate(image);
  const commands: string[] = [];
  let bytes = 0;
  const put = (inImage: string, size: number) => {
    const host = join(scratch, `f${commands.length}`);
    writeFileSync(host, randomBytes(size));
    commands.push(`cd ${dirname(inImage)}`, `write ${host} ${inImage.slice(dirname(inImage).length + 1)}`);
    bytes += size;
  };
  for (const f of rewritten) commands.push(`rm ${f}`);
  for (const f of rewritten) put(f, sizes.get(f)!);
  const added = rewritten.slice(0, ADDED).map((f, i) => `${dirname(f)}/rpi-deploy-update-${i}.bin`);
  for (const f of added) put(f, ADDED_BYTES);
  for (const f of removed) commands.push(`rm ${f}`);
  sh('cp', ['--sparse=always', a, path]);
  debugfsWrite(path, image.rootOffsetBytes, commands, scratch, 'version B');
  return { rewritten, removed, added, bytes };
}

/** Fails unless the diff lists exactly the changed files, and their directories, in the root. */
function checkDiff(diff: ImageDiff, update: Update): string {
  const root = diff.partitions.find((p) => p.number === ROOT_PARTITION);
  if (!root) throw new Error(`the diff lists no files for partition ${ROOT_PARTITION}`);
  if (root.filesTruncated) throw new Error(`the diff's file list is truncated at ${root.files.length}`);
  const expected = new Set([...update.rewritten, ...update.removed, ...update.added]);
  const dirs = new Set([...expected].map((f) => `${dirname(f)}/`));
  const listed = new Set(root.files);
  const missing = [...expected].filter((f) => !listed.has(f));
  const extra = root.files.filter((f) => !expected.has(f) && !dirs.has(f));
  if (missing.length > 0 || extra.length > 0)
    throw new Error(
      `the diff's files are not the changed ones: ${missing.length} missing (${missing.slice(0, 5).join(', ')}), ` +
        `${extra.length} extra (${extra.slice(0, 5).join(', ')})`,
    );
  return `${expected.size} changed files and ${root.files.length - expected.size} directories listed, as changed`;
}

const cli = (args: string[], data: string) => measureVerbose([process.execPath, CLI, ...args, '--data-dir', data]);

/** Waits for the server to finish a capture the board has uploaded (assembly, sanitising, import). */
async function captured(data: string): Promise<{ imageId: number; sanitised: string }> {
  const db = new Database(join(data, DATABASE_FILE), { readonly: true });
  try {
    for (;;) {
      const row = db
        .prepare(
          'select status, error, image_id as imageId, sanitise_report as sanitised from captures where serial = ? order by id desc',
        )
        .get(SERIAL) as { status: string; error: string | null; imageId: number | null; sanitised: string } | undefined;
      if (row?.status === 'succeeded' && row.imageId !== null) {
        const report = JSON.parse(row.sanitised) as { steps: { step: string; removed: string[]; emptied: string[] }[] };
        const done = report.steps.filter((s) => s.removed.length + s.emptied.length > 0);
        const sanitised = done.map((s) => `${s.step} (${[...s.removed, ...s.emptied].join(', ')})`).join(', ');
        return { imageId: row.imageId, sanitised };
      }
      if (row?.status !== 'assembling' && row?.status !== 'capturing')
        throw new Error(`the capture did not succeed: ${row?.status} ${row?.error}`);
      await sleep(500);
    }
  } finally {
    db.close();
  }
}

export async function benchLifecycleLarge(args: string[]): Promise<string[]> {
  const { values } = parseArgs({
    args,
    options: { image: { type: 'string', default: 'real' }, only: { type: 'string' }, 'cpu-prof': { type: 'string' } },
  });
  if (values.image !== 'real' && values.image !== '2g') throw new Error('--image is real or 2g');
  if (values.only !== undefined && values.only !== 'capture') throw new Error('--only takes capture');
  if (!NODE24) throw new Error("Node 24 (the boards' runtime) is missing: run node scripts/fetch-node-runtime.mjs");
  const image = values.image === 'real' ? realSizePiImage() : largePiImage();
  const lines: string[] = [];
  const log = (l: string) => {
    lines.push(l);
    process.stderr.write(`${l}\n`);
  };
  const run = (label: string, m: Measured) =>
    `${label}: ${fmt(m.wallS, 1)} s, ${fmt(m.cpuS, 1)} CPU-s, peak RSS ${fmt(m.peakRssMiB, 0)} MiB`;
  log(`image ${fmt(image.sizeBytes / 1e9)} GB (${values.image}), root ${fmt(100 * image.rootFull, 0)} % full`);

  const work = tempDir('rpi-deploy-bench-lifecycle-');
  try {
    const data = join(work.path, 'data');
    const scratch = join(work.path, 'scratch');
    mkdirSync(scratch);
    const a = join(work.path, 'a.img');
    makeVersionA(image, a, scratch);
    const importA = await cli(['image', 'add', a, '--product', 'KXP2', '--version', 'A', '--json'], data);
    log(run('import A (image add)', importA));
    const aId = (JSON.parse(importA.stdout) as { id: number }).id;
    if (values.only !== 'capture') {
      const b = join(work.path, 'b.img');
      const update = makeVersionB(image, a, b, scratch);
      log(
        `version B: ${update.rewritten.length} files rewritten, ${update.removed.length} removed, ` +
          `${update.added.length} added (${fmt(update.bytes / 1e6, 0)} MB written with debugfs -w)`,
      );
      const importB = await cli(['image', 'add', b, '--product', 'KXP2', '--version', 'B', '--json'], data);
      log(run('import B (image add)', importB));
      const diffRun = await cli(['image', 'diff', 'KXP2@A', 'KXP2@B', '--json'], data);
      const diff = JSON.parse(diffRun.stdout) as ImageDiff;
      log(
        `${run('diff A B (image diff --json)', diffRun)}; ${diff.differingUsedChunks} of ${diff.chunks} chunks differ; ` +
          checkDiff(diff, update),
      );
      rmSync(b);
    }

    // The golden board's card is A's file behind a loop device, read-only: a capture only reads.
    const loop = sh('losetup', ['--find', '--show', '--read-only', a]).trim();
    try {
      await cli(['image', 'capture', '--serial', SERIAL, '--product', 'KXP2', '--version', 'C', '--json'], data);
      // At info, the server logs its account of the capture's finishing.
      const profile = values['cpu-prof'];
      const serve = await spawnServe([...loopbackListen(data), '--log-level', 'info'], {
        // sh takes node's path as $0 and runs it with the profiler on.
        ...(profile && { wrap: ['/bin/sh', '-c', `exec "$0" --cpu-prof --cpu-prof-dir=${profile} "$@"`] }),
      });
      const pid = serve.child.pid!;
      let serverLog = '';
      serve.child.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
      try {
        const idle = peakRssMiBOf(pid);
        const t0 = performance.now();
        const agent = await measureVerbose([
          NODE24,
          AGENT_BUNDLE,
          '--server',
          serve.device,
          '--target',
          loop,
          '--serial',
          SERIAL,
          '--json',
          '--quiet',
        ]);
        const result = JSON.parse(agent.stdout.trim().split('\n').pop() ?? '{}') as AgentResult;
        if (result.status !== 'success' || !result.capture) throw new Error(`the capture failed: ${agent.stdout}`);
        const { imageId, sanitised } = await captured(data);
        const totalS = (performance.now() - t0) / 1000;
        const serverPeak = peakRssMiBOf(pid);
        const stats = result.capture.stats;
        log(
          `${run('capture: agent (Node 24)', agent)}; ${fmt(stats.usedBytes / 1e6, 0)} MB used in ${stats.chunks} chunks, ` +
            `${fmt(stats.bytesSent / 1e6, 0)} MB sent`,
        );
        log(
          `capture: server (serve: receive, assemble, sanitise, import) peak RSS ${fmt(serverPeak, 0)} MiB ` +
            `(${fmt(idle, 0)} MiB idle); done ${fmt(totalS, 1)} s after the agent started`,
        );
        // The server's own account of its finishing: each step's time after the board's last chunk.
        const finished = /"msg":"(capture \d+ is image \d+ after [^"]*)"/.exec(serverLog)?.[1];
        if (!finished) throw new Error(`the server logged no finished capture:\n${serverLog.slice(-2000)}`);
        log(`capture: server: ${finished}`);
        const manifest = async (id: number) =>
          JSON.parse((await cli(['image', 'manifest', String(id)], data)).stdout) as Manifest;
        const [ma, mc] = await Promise.all([manifest(aId), manifest(imageId)]);
        if (ma.chunks.length !== mc.chunks.length)
          throw new Error(`the capture has ${mc.chunks.length} chunks, A ${ma.chunks.length}`);
        const used = ma.chunks.filter((c) => c.used).length;
        const changed = ma.chunks.filter((c, i) => c.used && c.sha256 !== mc.chunks[i]!.sha256).length;
        if (changed > SANITISE_CHUNKS_MAX)
          throw new Error(`${changed} of the capture's used chunks differ from A's (sanitising explains a few)`);
        log(
          `capture: ${used - changed} of ${used} used chunks equal A's; ${changed} changed by sanitising: ${sanitised}`,
        );
      } finally {
        serve.child.kill('SIGTERM');
        await new Promise((resolve) => serve.child.once('exit', resolve));
      }
    } finally {
      sh('losetup', ['--detach', loop]);
    }
  } finally {
    work.remove();
  }
  return lines;
}
