// Starts a TypeScript worker entry when zap runs from its sources under tsx (tests, development).
// Node 20 does not apply the parent thread's tsx hooks inside worker threads, so the worker
// registers them itself before importing the real entry. Never used from the compiled package.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.__zapTsEntry);
