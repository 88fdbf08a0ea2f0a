import { afterAll, beforeAll } from 'vitest';
import { startS3Server, type S3Server } from './s3-server.ts';

// Kept apart from s3-server.ts, which test helpers import outside vitest's hooks.
/**
 * For a describe block: an S3-compatible store started in beforeAll and stopped in afterAll. Its
 * fields are read inside the tests, once beforeAll has run.
 */
export function useS3Server(bucket?: string): Omit<S3Server, 'stop'> {
  let server: S3Server | undefined;
  beforeAll(async () => {
    server = await startS3Server(bucket);
  });
  afterAll(async () => {
    await server?.stop();
  });
  const started = (): S3Server => {
    if (!server) throw new Error('the S3 server starts in beforeAll: read it inside a test');
    return server;
  };
  return {
    get settings() {
      return started().settings;
    },
    get env() {
      return started().env;
    },
    get directory() {
      return started().directory;
    },
  };
}
