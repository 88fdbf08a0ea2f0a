/**
 * Whether a process on this host lives, for the farm (services/core judges the owners of locks and
 * containers with it): the client's own check, so there is one. Not public API; TypeScript only,
 * like lbc-client/internal/verify.
 */
export { processAlive } from '../trace/process-alive.ts';
