export * from './chat-template.js';
