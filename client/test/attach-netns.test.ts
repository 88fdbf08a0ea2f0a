// attachNetns on the real kernel: an sk_lookup program attached to a network namespace created
// for the test is a netns link the kernel lists, runs for connections inside that namespace only,
// and is gone once the link is destroyed.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { isLbcError } from '@lbc/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, type NativeLink, type NativeObject } from '../src/native/index.ts';
import { attachNetns, loadObject } from '../src/attach/index.ts';
import { fixtureBuilder, type FixtureBuilder } from '@lbc/test-support/native-fixtures';

const native = loadNative();
const NETNS = `lbc-test-${randomBytes(4).toString('hex')}`;
const NETNS_PATH = `/run/netns/${NETNS}`;
let fixtures: FixtureBuilder;
let object: NativeObject;

beforeAll(() => {
  fixtures = fixtureBuilder();
  execFileSync('ip', ['netns', 'add', NETNS]);
  execFileSync('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
  object = native.openObject(fixtures.object('netns-lookup'), 'netns_lookup');
  loadObject(object, 'netns_lookup');
});
afterAll(() => {
  object?.close();
  execFileSync('ip', ['netns', 'del', NETNS]);
  fixtures.cleanup();
});

function lookups(): bigint {
  const fd = object.maps().find((m) => m.name === 'lookups')!.fd;
  return native.mapLookup(fd, Buffer.alloc(4), 8)!.readBigUInt64LE();
}

/** A TCP connect to a closed port inside the namespace: the SYN goes through socket lookup. */
function connectInsideNetns(): void {
  execFileSync('ip', ['netns', 'exec', NETNS, 'bash', '-c', 'echo > /dev/tcp/127.0.0.1/9 || true'], { stdio: 'ignore' });
}

async function connectInRootNetns(): Promise<void> {
  await new Promise<void>((resolve) => connect(9, '127.0.0.1').once('error', () => resolve()).once('connect', function (this: { destroy(): void }) {
    this.destroy();
    resolve();
  }));
}

function netnsLinksOfProgram() {
  const progId = object.programs().find((p) => p.name === 'lbct_sk_lookup')!.id;
  return native.listLinks().filter((l) => l.progId === progId);
}

describe('attachNetns', () => {
  it('by path: a netns link of type sk_lookup on that namespace, running there only, gone after destroy', async () => {
    const before = lookups();
    const link: NativeLink = attachNetns(object, 'lbct_sk_lookup', NETNS_PATH);
    try {
      expect(link.fd()).toBeGreaterThan(0);
      const links = netnsLinksOfProgram();
      expect(links).toHaveLength(1);
      expect(links[0]).toMatchObject({ typeName: 'netns', attachType: 'sk_lookup', target: `netns ${statSync(NETNS_PATH).ino}` });

      connectInsideNetns();
      const afterInside = lookups();
      expect(afterInside).toBeGreaterThan(before);

      await connectInRootNetns();
      expect(lookups()).toBe(afterInside);
    } finally {
      link.destroy();
    }
    expect(link.fd()).toBe(-1);
    expect(netnsLinksOfProgram()).toEqual([]);
    const afterDestroy = lookups();
    connectInsideNetns();
    expect(lookups()).toBe(afterDestroy);
  });

  it('by an open fd of the namespace file: the same link; the caller keeps its fd', () => {
    const fd = openSync(NETNS_PATH, 'r');
    try {
      const link = attachNetns(object, 'lbct_sk_lookup', fd);
      try {
        expect(netnsLinksOfProgram().map((l) => l.target)).toEqual([`netns ${statSync(NETNS_PATH).ino}`]);
        const before = lookups();
        connectInsideNetns();
        expect(lookups()).toBeGreaterThan(before);
      } finally {
        link.destroy();
      }
      expect(netnsLinksOfProgram()).toEqual([]);
      // Still the caller's: attachNetns did not close it.
      expect(statSync(`/proc/self/fd/${fd}`).ino).toBe(statSync(NETNS_PATH).ino);
    } finally {
      closeSync(fd);
    }
  });

  it('a namespace file that does not exist is LBC_ERR_ATTACH naming it', () => {
    let err: unknown;
    try {
      attachNetns(object, 'lbct_sk_lookup', `/run/netns/${NETNS}-missing`);
    } catch (e) {
      err = e;
    }
    expect(isLbcError(err)).toBe(true);
    expect((err as Error & { code: string }).code).toBe('LBC_ERR_ATTACH');
    expect((err as Error).message).toContain(`${NETNS}-missing`);
  });
});
