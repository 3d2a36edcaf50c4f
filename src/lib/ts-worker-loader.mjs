// Entry of a worker whose module is TypeScript (tests and tsx run the sources): Node 20 applies no
// `--import tsx` loader inside a worker, so tsx is registered here, on the worker's own thread.
// module-worker.ts passes the module's URL as the worker's first argument.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
