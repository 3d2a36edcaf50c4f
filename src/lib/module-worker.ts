import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts `<name>.worker.js` from the folder of the module at `from` (its `import.meta.url`). Run
 * from the TypeScript sources (vitest, tsx), that module is a .ts file and so is its worker, which
 * Node loads only through tsx (ts-worker-loader.mjs). Options of the parent process are not passed
 * on: a flag such as `--input-type` is meant for the parent's own entry point.
 */
export function startModuleWorker(
  from: string,
  name: string,
  options: Omit<WorkerOptions, 'execArgv' | 'argv'> = {},
): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`./${name}.worker.js`, from), { ...options, execArgv: [] });
  const source = new URL(`./${name}.worker.ts`, from);
  return new Worker(new URL('./ts-worker-loader.mjs', import.meta.url), {
    ...options,
    execArgv: [],
    argv: [source.href],
  });
}
