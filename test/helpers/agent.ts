import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { testCacheDir } from './test-cache.js';
import { fileURLToPath } from 'node:url';
import type { AgentResult } from '../../src/agent/index.js';

/** The one-file agent, exactly as a board runs it (npm test builds it first). */
export const AGENT_BUNDLE = fileURLToPath(new URL('../../dist/rpi-deploy-agent.mjs', import.meta.url));

/**
 * Node 24 (the boards' runtime, zstd in zlib) if scripts/fetch-node-runtime.mjs (npm's pretest)
 * fetched it. Under CI it must be there: the tests that matter for boards run on their Node.
 */
export const NODE24: string | undefined = (() => {
  const cache = testCacheDir();
  const dir = readdirSync(cache).find((d) => d.startsWith('node-v24.') && existsSync(join(cache, d, 'bin/node')));
  if (!dir && process.env['CI'])
    throw new Error(`Node 24 is missing from ${cache}: run node scripts/fetch-node-runtime.mjs`);
  return dir ? join(cache, dir, 'bin/node') : undefined;
})();

/** A file standing in for a card of `sizeBytes` (sparse). */
export function cardFile(path: string, sizeBytes: number): string {
  writeFileSync(path, '');
  truncateSync(path, sizeBytes);
  return path;
}

/** The agent's arguments for a board of venue CORO and product KXP2 (the agent tests' fleet), quiet. */
export const agentArgs = (server: string, serial: string, card: string, extra: string[] = []): string[] => [
  '--server',
  server,
  '--target',
  card,
  '--serial',
  serial,
  '--venue',
  'CORO',
  '--product',
  'KXP2',
  '--quiet',
  ...extra,
];

export interface AgentRun {
  code: number | null;
  result: AgentResult | undefined;
  stderr: string;
}

/** Runs the bundled agent in its own process; resolves when it exits. */
export function runAgentProcess(
  args: string[],
  options: { node?: string | undefined; timeoutMs?: number } = {},
): { done: Promise<AgentRun>; kill(signal?: NodeJS.Signals): void } {
  const child = spawn(options.node ?? process.execPath, [AGENT_BUNDLE, '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const done = new Promise<AgentRun>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop();
      resolve({ code, result: line ? (JSON.parse(line) as AgentResult) : undefined, stderr });
    }),
  );
  return { done, kill: (signal = 'SIGTERM') => child.kill(signal) };
}
