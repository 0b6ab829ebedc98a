export * from './float-array.js';
export * from './rmsnorm.js';
export * from './rope.js';
export * from './silu.js';
export * from './softmax.js';
export * from './gelu.js';
export * from './softcap.js';
export * from './attention-sink.js';
