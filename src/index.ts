// Public API of zap. Re-exports only.
export * from './protocol/types.js';
export * from './protocol/errors.js';
