// Public API of cmm-engine. Everything a Node process embeds is exported from here.
export * from './errors';
export * from './core/event';
export { native, crc32c } from './native';
export * from './log/event-log';
export * from './replay/replay';
export * from './core/instrument';
export * from './market/market-engine';
export * from './book/order-book';
export * from './import/lobster';
export * from './import/lobster-verify';
