import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildNetboot } from '../../netboot/index.js';
import { configFor } from '../context.js';
import { printJson } from '../output.js';

/** `npm run build` writes the agent bundle here (both src/ and dist/ are three levels below the package). */
const DEFAULT_AGENT = fileURLToPath(new URL('../../../dist/rpi-deploy-agent.mjs', import.meta.url));

export function registerNetboot(netboot: Command): void {
  netboot
    .command('build')
    .description(
      'assemble the stage-1 initramfs and the runtime bundle (Node for linux-arm64 + the agent) from the Debian archive and the npm registry',
    )
    .option('--force', 'rebuild even if nothing changed, and refresh the package lists')
    .option('--agent <file>', 'the agent bundle to ship', DEFAULT_AGENT)
    .option('--cache-dir <dir>', 'keep downloads here (default <data dir>/netboot/cache)')
    .option('--json', 'print the build manifest as JSON')
    .action(async (opts: { force?: boolean; agent: string; cacheDir?: string; json?: boolean }, cmd: Command) => {
      const config = configFor(cmd);
      const started = Date.now();
      const result = await buildNetboot({
        dataDir: config.dataDir,
        agentBundle: opts.agent,
        force: opts.force ?? false,
        onProgress: (line) => process.stderr.write(`${line}\n`),
        ...(opts.cacheDir && { cacheDir: opts.cacheDir }),
      });
      if (opts.json) return printJson({ ...result.manifest, reused: result.reused, dir: result.dir });
      const m = result.manifest;
      process.stdout.write(
        `${result.reused ? 'Up to date' : `Built in ${((Date.now() - started) / 1000).toFixed(1)} s`}: ${result.dir}\n` +
          `  stage 1         ${m.stage1.file}  ${m.stage1.sizeBytes} bytes  sha256 ${m.stage1.sha256}\n` +
          `  runtime bundle  ${m.runtime.file}  ${m.runtime.sizeBytes} bytes  sha256 ${m.runtime.sha256}\n`,
      );
    });
}
