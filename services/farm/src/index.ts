export { startServer, type ServerMode, type RunningServer } from './start.ts';
export { startOwnedRedis, type OwnedRedis } from './private-redis.ts';
