export * from './verdict-cache.ts';
