/**
 * lbc graph's clean-up on this host's real tracefs: instances named after a dead run are removed at
 * the next start, live ones are left alone; a kernel without function_graph is refused without
 * leaving its probe instance behind. (The top-level lock and its restore run in the kernel lab,
 * test/lab/graph.test.ts: this kernel has no function_graph to take.)
 */
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { findTracefs } from '../src/trace/tracefs.ts';
import { INSTANCE_PREFIX, sweepGraphLeftovers, takeGraphPlace } from '../src/graph/fgraph-place.ts';

const root = findTracefs();
// Above pid_max (4194304 at most): no process can hold it.
const DEAD = 4_194_999;

describe('lbc graph leftovers on tracefs', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) if (existsSync(dir)) rmdirSync(dir);
  });

  it("removes a dead run's instance and keeps a live one", () => {
    const dead = `${root}/instances/${INSTANCE_PREFIX}${DEAD}`;
    const live = `${root}/instances/${INSTANCE_PREFIX}${process.pid}`;
    mkdirSync(dead);
    mkdirSync(live);
    made.push(dead, live);
    const swept = sweepGraphLeftovers(root);
    expect(swept.instances).toContain(`${INSTANCE_PREFIX}${DEAD}`);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });

  it('refuses a kernel without function_graph and leaves no instance', () => {
    let err: unknown;
    try {
      takeGraphPlace(root, 'do_sys_openat2');
    } catch (e) {
      err = e;
    }
    expect(isLbcError(err, 'LBC_ERR_GRAPH_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toMatch(/no function_graph tracer \(.*available_tracers: .*\)/);
    expect(existsSync(`${root}/instances/${INSTANCE_PREFIX}${process.pid}`)).toBe(false);
  });
});
