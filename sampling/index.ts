export * from './fixed-work-order.js';
export * from './logit-adjustments.js';
export * from './logprobs.js';
export * from './sample-token.js';
export * from './sampling-params.js';
export * from './sampling-rng.js';
