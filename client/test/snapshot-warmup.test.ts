// The CLI snapshot's warm-up (cli/snapshot-warmup.ts) must really go through the decode path it
// is there to compile: a BTF it writes by hand, a ring record, the event as `lbc run --json` prints it.
import { describe, expect, it } from 'vitest';
import { warmUpCompileAnswer, warmUpForSnapshot } from '../src/cli/snapshot-warmup.ts';

describe('the CLI snapshot warm-up', () => {
  it('decodes its sample event from a ring record and formats it', () => {
    expect(JSON.parse(warmUpForSnapshot())).toEqual({ map: 'events', event: { pid: 7, seq: 0, comm: 'warm-up', ts: 0 } });
  });

  it("runs a cache hit's answer through the compile request, its checks and the atomic write, from memory", async () => {
    expect(await warmUpCompileAnswer()).toBe(Buffer.byteLength('warm-up object'));
  });
});
