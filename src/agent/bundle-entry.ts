/**
 * Entry point of the one-file agent bundle (dist/agent.mjs, built by scripts/bundle-agent.mjs)
 * that runs on the board: `node agent.mjs --server URL --target /dev/mmcblk0`.
 */
import { setFlagsFromString } from 'node:v8';
import { agentMain } from './cli.js';

// Chunks pass through as buffers outside the JavaScript heap (a few hundred MB per card). By
// default V8 runs a full collection every 64 MB of them; counted with the heap instead, the
// collections are a tenth as many and a card is written about a fifth faster, for a peak of
// about 400 MB instead of 260 MB (bench/write.ts). Only V8 13 (Node 24, the boards' runtime)
// knows the flag; older ones would print an error for it.
if (Number(process.versions.v8.split('.')[0]) >= 13) setFlagsFromString('--external-memory-accounted-in-global-limit');

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`rpi-deploy-agent: unexpected failure: ${(reason as Error)?.stack ?? String(reason)}\n`);
  process.exit(1);
});
process.exitCode = await agentMain(process.argv.slice(2), stop.signal);
