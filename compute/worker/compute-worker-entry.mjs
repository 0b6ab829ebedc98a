// Entry of a compute worker thread (compute/worker/worker-pool-backend.ts starts it). Plain
// JavaScript so that Node can start it however the parent runs (bin/permllm.mjs, vitest, tsx):
// it registers tsx's loader in this thread, as bin/permllm.mjs does in the main one, then loads
// the TypeScript worker body.
import { register } from 'tsx/esm/api';

register();
await import('./compute-worker.ts');
