/**
 * Entry point of the one-file agent bundle (dist/agent.mjs, built by scripts/bundle-agent.mjs)
 * that runs on the board: `node agent.mjs --server URL --target /dev/mmcblk0`.
 */
import { agentMain } from './cli.js';

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`rpi-deploy-agent: unexpected failure: ${(reason as Error)?.stack ?? String(reason)}\n`);
  process.exit(1);
});
process.exitCode = await agentMain(process.argv.slice(2), stop.signal);
