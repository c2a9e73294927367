// Public API of cmm-engine. Everything a Node process embeds is exported from here.
export * from './errors';
export * from './core/event';
export { native, crc32c } from './native';
