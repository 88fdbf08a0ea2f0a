import { describe, it, expect } from 'vitest';
import { createServer } from 'node:net';
import { isLbcError } from '@lbc/contract';
import { ServiceClient, resolveServer } from '../src/transport/index.ts';

/** A port nobody listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('transport to the service', () => {
  it('resolves the server from option, LBC_SERVER, then the local default', () => {
    const saved = process.env.LBC_SERVER;
    try {
      process.env.LBC_SERVER = 'http://farm.example:9000/';
      expect(resolveServer('http://127.0.0.1:1234')).toBe('http://127.0.0.1:1234');
      expect(resolveServer()).toBe('http://farm.example:9000');
      delete process.env.LBC_SERVER;
      expect(resolveServer()).toBe('http://127.0.0.1:8080');
      expect(resolveServer('build-host:8080')).toBe('http://build-host:8080');
    } finally {
      if (saved === undefined) delete process.env.LBC_SERVER;
      else process.env.LBC_SERVER = saved;
    }
  });

  it('a refused connection is LBC_ERR_SERVER_UNREACHABLE naming the server and ECONNREFUSED', async () => {
    const server = `http://127.0.0.1:${await closedPort()}`;
    const client = new ServiceClient({ server });
    try {
      const err = await client.listKernels().catch((e: unknown) => e);
      expect(isLbcError(err, 'LBC_ERR_SERVER_UNREACHABLE')).toBe(true);
      expect((err as Error).message).toContain(server);
      expect((err as Error).message).toContain('ECONNREFUSED');
    } finally {
      await client.close();
    }
  });

  it.each([
    ['a Content-Length body', 'content-length: 1000\r\n\r\n{"kernels":['],
    ['a chunked body', 'transfer-encoding: chunked\r\n\r\nc\r\n{"kernels":[\r\n'],
    ['the headers', 'content-length: 10\r\n'],
  ])('an answer cut off within %s is LBC_ERR_SERVER_UNREACHABLE, at once', async (_, rest) => {
    const srv = createServer((socket) => {
      socket.once('data', () => {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${rest}`);
        setTimeout(() => socket.destroy(), 50);
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const client = new ServiceClient({ server: `http://127.0.0.1:${(srv.address() as { port: number }).port}` });
    try {
      const started = performance.now();
      const err = await client.listKernels().catch((e: unknown) => e);
      expect(isLbcError(err, 'LBC_ERR_SERVER_UNREACHABLE')).toBe(true);
      // Not the request's 30 s timeout: the end of the connection ends the wait.
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      await client.close();
      await new Promise((r) => srv.close(r));
    }
  });

  it('an unresolvable host is LBC_ERR_SERVER_UNREACHABLE too', async () => {
    const client = new ServiceClient({ server: 'http://no-such-host.invalid:8080', connectTimeoutMs: 2000 });
    try {
      const err = await client.listKernels().catch((e: unknown) => e);
      expect(isLbcError(err, 'LBC_ERR_SERVER_UNREACHABLE')).toBe(true);
      expect((err as Error).message).toMatch(/no-such-host\.invalid.*(ENOTFOUND|EAI_AGAIN)/);
    } finally {
      await client.close();
    }
  });
});
