export * from './api-error.js';
export * from './permllm-client.js';
export * from './sse-stream.js';
export type * from './types.js';
export type { components, paths, operations } from './generated/openapi.js';
