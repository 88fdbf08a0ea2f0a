// A raw packet socket lbc opens on an interface, with a socket filter on it from the first packet:
// pings from a private network namespace arrive as whole Ethernet frames; what the filter drops
// (ARP and the rest) never reaches JS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lbc } from '../src/index.ts';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { cachedLbc } from './object-setup-support.ts';
import { createVethNetns, type VethNetns } from '@lbc/test-support/veth-netns';

const env = useNativeFixtures();
let net: VethNetns;
let cacheDir: string;
let lbc: Lbc;
beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'lbc-packet-cache-'));
  net = createVethNetns('pk');
  lbc = await cachedLbc(env.fixtures, cacheDir, 'packetfilter', 'packet-filter').ready;
});
afterAll(() => {
  lbc?.close();
  net?.remove();
  rmSync(cacheDir, { recursive: true, force: true });
});

const ICMP_ECHO_REQUEST = 8;
const ICMP_ECHO_REPLY = 0;

describe('packet sockets', () => {
  it('openPacketSocket() delivers the frames the filter keeps, and close() stops it', async () => {
    const frames: Buffer[] = [];
    const socket = lbc.programs.lbct_keep_icmp.openPacketSocket(net.hostIf, (frame) => frames.push(Buffer.from(frame)));
    try {
      expect(net.ping(3)).toBe(3);
      for (let i = 0; i < 40 && frames.length < 6; i++) await sleep(25);
    } finally {
      socket.close();
    }
    // Ethernet + IPv4 + ICMP: the requests coming in and the replies going out.
    for (const f of frames) {
      expect(f.readUInt16BE(12)).toBe(0x0800);
      expect(f[23]).toBe(1);
    }
    const types = frames.map((f) => f[34]);
    expect(types.filter((t) => t === ICMP_ECHO_REQUEST)).toHaveLength(3);
    expect(types.filter((t) => t === ICMP_ECHO_REPLY)).toHaveLength(3);
    const seen = Number(lbc.maps.verdicts.get(0));
    const kept = Number(lbc.maps.verdicts.get(1));
    expect(kept).toBe(frames.length);
    // The first ping is preceded by ARP, which the filter saw and dropped.
    expect(seen).toBeGreaterThan(kept);

    const after = frames.length;
    expect(net.ping(1)).toBe(1);
    await sleep(200);
    expect(frames.length).toBe(after);
  });
});
