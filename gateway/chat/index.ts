export * from './chat-template.js';
export * from './tool-syntax.js';
