// Socket filters through the program object: attachSocket() on a UDP socket this test opens on
// loopback; the filter counts packets in a map and drops the large ones, which never arrive.
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isLbcError } from '@lbc/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lbc } from '../src/index.ts';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { cachedLbc } from './object-setup-support.ts';

const env = useNativeFixtures();
let cacheDir: string;
let lbc: Lbc;
beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'lbc-socket-cache-'));
  lbc = await cachedLbc(env.fixtures, cacheDir, 'sockfilter', 'socket-filter').ready;
});
afterAll(() => {
  lbc?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

async function boundSocket(): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, received };
}

/** Sends small and large datagrams to `to`, then waits for `expected` to arrive (or 2 s). */
async function send(to: Socket, sizes: number[], received: Buffer[], expected: number): Promise<void> {
  const sender = createSocket('udp4');
  for (const size of sizes) {
    await new Promise<void>((done, fail) => sender.send(Buffer.alloc(size, 0x61), to.address().port, '127.0.0.1', (err) => (err ? fail(err) : done())));
  }
  sender.close();
  for (let i = 0; i < 80 && received.length < expected; i++) await sleep(25);
  // Packets the filter dropped would have arrived by now too.
  await sleep(100);
}

describe('socket filters', () => {
  it('SEC("socket") is left to attachSocket by auto-attach', () => {
    expect(lbc.unattached).toEqual([{ prog: 'lbct_drop_large', section: 'socket' }]);
  });

  it('a filter on a dgram socket counts what it sees and drops what it returns 0 for; destroy() lifts it', async () => {
    const { socket, received } = await boundSocket();
    try {
      const link = lbc.programs.lbct_drop_large.attachSocket(socket);
      await send(socket, [10, 500, 20, 800, 30], received, 3);
      expect(received.map((m) => m.length)).toEqual([10, 20, 30]);
      expect(Number(lbc.maps.packets.get(0))).toBe(5);
      expect(Number(lbc.maps.packets.get(1))).toBe(2);

      link.destroy();
      received.length = 0;
      await send(socket, [600], received, 1);
      expect(received.map((m) => m.length)).toEqual([600]);
      expect(Number(lbc.maps.packets.get(0))).toBe(5);
    } finally {
      socket.close();
    }
  });

  it('a socket that is not open yet is LBC_ERR_ATTACH_TARGET saying what to pass', () => {
    const unbound = createSocket('udp4');
    try {
      let err: unknown;
      try {
        lbc.programs.lbct_drop_large.attachSocket(unbound);
      } catch (e) {
        err = e;
      }
      expect(isLbcError(err, 'LBC_ERR_ATTACH_TARGET')).toBe(true);
      expect((err as Error).message).toContain('after it is bound or connected');
    } finally {
      unbound.close();
    }
  });

  it('attachSocket on a tracepoint program is LBC_ERR_PROGRAM_KIND', async () => {
    const { socket } = await boundSocket();
    try {
      let err: unknown;
      try {
        lbc.programs.lbct_not_a_filter.attachSocket(socket);
      } catch (e) {
        err = e;
      }
      expect(isLbcError(err, 'LBC_ERR_PROGRAM_KIND')).toBe(true);
    } finally {
      socket.close();
    }
  });
});
