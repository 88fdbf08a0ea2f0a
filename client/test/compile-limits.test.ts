/**
 * A program over the service's size limits ends in LBC_ERR_BODY_TOO_LARGE naming the limit, not
 * in EPIPE / LBC_ERR_SERVER_UNREACHABLE: the client checks the limits before sending (asking GET
 * /v1/limits only when a request is beyond the defaults), and follows the service's own limits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, isLbcError, type CompileRequest } from '@lbc/contract';
import { ServiceClient } from '../src/transport/index.ts';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';

const request = (source: string): CompileRequest => ({ name: 'big', source, target: { release: '6.18.0-nowhere', arch: 'x86_64' }, waitMs: 0 });

describe('compile requests over the size limits', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function serve(limits: Partial<typeof DEFAULT_LIMITS> = {}) {
    h = await startHarness({ config: { limits: { ...DEFAULT_LIMITS, ...limits } } });
    const seen: string[] = [];
    const server = await h.app.listen({ port: 0, host: '127.0.0.1' });
    h.app.server.on('request', (req: { method?: string; url?: string }) => void seen.push(`${req.method} ${req.url}`));
    return { client: new ServiceClient({ server }), seen };
  }

  it('a source over the limit is refused before sending with LBC_ERR_BODY_TOO_LARGE naming the limit', async () => {
    const { client, seen } = await serve();
    try {
      const err = await client.compile(request('/*' + 'x'.repeat(DEFAULT_LIMITS.maxSourceBytes + 100) + '*/')).catch((e: unknown) => e);
      expect(isLbcError(err, 'LBC_ERR_BODY_TOO_LARGE'), String(err)).toBe(true);
      expect((err as Error).message).toContain(`the limit is ${DEFAULT_LIMITS.maxSourceBytes}`);
      expect(seen).toEqual(['GET /v1/limits']);
      // A body of several MB, too: still the named limit.
      const huge = await client.compile(request('x'.repeat(6_000_000))).catch((e: unknown) => e);
      expect(isLbcError(huge, 'LBC_ERR_BODY_TOO_LARGE'), String(huge)).toBe(true);
      expect(seen.filter((s) => s.startsWith('POST'))).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("follows the service's own limits: raised by the operator, the same source is sent", async () => {
    const { client, seen } = await serve({ maxSourceBytes: 4 * DEFAULT_LIMITS.maxSourceBytes });
    try {
      const err = await client.compile(request('/*' + 'x'.repeat(DEFAULT_LIMITS.maxSourceBytes + 100) + '*/')).catch((e: unknown) => e);
      // It reached the service, which knows no such kernel.
      expect(isLbcError(err, 'LBC_ERR_KERNEL_UNKNOWN'), String(err)).toBe(true);
      expect(seen).toEqual(['GET /v1/limits', 'POST /v1/compile']);
    } finally {
      await client.close();
    }
  });

  it('within the default limits no extra request is made', async () => {
    const { client, seen } = await serve();
    try {
      await client.compile(request('int x;')).catch(() => undefined);
      expect(seen).toEqual(['POST /v1/compile']);
    } finally {
      await client.close();
    }
  });
});
