export * from './llama2c-checkpoint.js';
export * from './llama2c-tokenizer.js';
export * from './load-llama2c-model.js';
