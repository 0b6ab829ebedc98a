export * from './generate.js';
export * from './kv-cache.js';
export * from './plaintext-model.js';
export * from './token-stepper.js';
export * from './ops/index.js';
