/**
 * lbc trace on this machine's tracefs: a trace event with a filter, uprobes on a binary built with
 * gcc -g (arguments, struct members, bitfields, return value), kprobes refused clearly (no
 * kprobe_events here), and no instance or probe left behind after any of it, also after failures.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { resolveSymbolOffset } from '../src/elf/index.ts';
import { findTracefs, localKernelTypes, parseProbe, translateEnv, translateProbe, TraceSession, type KernelTypes, type ProbePlan } from '../src/trace/index.ts';
import { privateTrue } from '@lbc/test-support/private-true';

const APP = `
#include <stdio.h>
struct point { int x; long y; char name[16]; struct point *next; unsigned flag:3, mode:5; };
__attribute__((noinline)) long lbc_probe_me(int a, struct point *p, const char *s) { return a + p->x + p->next->y + s[0]; }
int main(void) {
  struct point q = { 7, -8, "inner", 0, 0, 0 };
  struct point p = { 1, 2, "hello", &q, 5, 17 };
  printf("%ld\\n", lbc_probe_me(42, &p, "str"));
  return 0;
}
`;

let root: string;
let types: KernelTypes;
let dir: string;
let app: string;

beforeAll(() => {
  root = findTracefs();
  types = localKernelTypes();
  dir = mkdtempSync(join(tmpdir(), 'lbc-trace-'));
  writeFileSync(join(dir, 'app.c'), APP);
  app = join(dir, 'app');
  execFileSync('gcc', ['-g', '-O0', '-o', app, join(dir, 'app.c')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What lbc trace may have left in tracefs: our instances and event groups. */
function tracefsState(): { instances: string[]; probes: string[] } {
  const instances = readdirSync(`${root}/instances`).filter((n) => n.startsWith('lbc-'));
  const probes = readFileSync(`${root}/uprobe_events`, 'utf8').split('\n').filter((l) => /^[pr]:lbc_/.test(l));
  return { instances, probes };
}

function plans(lines: string[], group: string): ProbePlan[] {
  const env = translateEnv(types, group, root);
  return lines.map((l, i) => translateProbe(parseProbe(l), i, env));
}

/** Runs a session until `until` sees what it waits for among the lines, or times out. */
async function collect(session: TraceSession, act: () => void, until: (lines: string[]) => boolean): Promise<string[]> {
  const lines: string[] = [];
  const done = session.stream((l) => lines.push(l));
  await sleep(100);
  act();
  for (let i = 0; i < 100 && !until(lines); i++) await sleep(50);
  session.close();
  await done;
  return lines;
}

describe('lbc trace, live', () => {
  it("e sched/sched_process_exec with a filter: the filtered exec is printed, others are not; the instance goes on close", async () => {
    const mine = privateTrue();
    const names = { instance: `lbc-${process.pid}`, stack: false };
    const session = TraceSession.open(plans([`e sched/sched_process_exec f:filename~"*${mine.comm}"`], `lbc_${process.pid}`), names);
    expect(existsSync(`${root}/instances/${names.instance}/events/sched/sched_process_exec/filter`)).toBe(true);
    expect(readFileSync(`${root}/instances/${names.instance}/events/sched/sched_process_exec/enable`, 'utf8').trim()).toBe('1');
    const lines = await collect(
      session,
      () => {
        spawnSync('/bin/true');
        spawnSync(mine.path);
      },
      (l) => l.some((x) => x.includes(mine.comm)),
    );
    expect(lines.some((l) => l.includes(`sched_process_exec: filename=${mine.path}`))).toBe(true);
    expect(lines.some((l) => l.includes('filename=/bin/true'))).toBe(false);
    expect(existsSync(`${root}/instances/${names.instance}`)).toBe(false);
  });

  it('P/R uprobes on a gcc -g binary read arguments, members, chains, bitfields, strings and the return value; ip_ values converted both ways', async () => {
    const before = tracefsState();
    const group = `lbc_${process.pid}`;
    const p = plans(
      [`P ${app}:lbc_probe_me a=S%0 x=%1->x y=S%1->next->y name=%1->name nn=%1->next->name s=%2 f=%1->flag m=%1->mode ip_x=%1->x f:ip_x==1.0.0.0 && a==42`, `R ${app}:lbc_probe_me r=S$retval`],
      group,
    );
    expect(p[0]!.definition!.text).toMatch(new RegExp(`^p:${group}/P0 ${app}:0x${resolveSymbolOffset(app, 'lbc_probe_me').toString(16)} a=%di:s32 x=\\+0x0\\(%si\\):u32 `));
    const session = TraceSession.open(p, { instance: `lbc-${process.pid}`, stack: false });
    expect(tracefsState().probes).toHaveLength(before.probes.length + 2);
    const lines = await collect(session, () => spawnSync(app), (l) => l.some((x) => x.includes('R1:')));
    const entry = lines.find((l) => l.includes(' P0: '));
    // ip_x: the int 1 read as an IPv4 address in memory order; the filter literal was converted the same way.
    expect(entry).toContain('a=42 x=1 y=-8 name="hello" nn="inner" s="str" f=5 m=17 ip_x=1.0.0.0');
    expect(p[0]!.filter).toBe('ip_x==0x1 && a==42');
    expect(lines.find((l) => l.includes(' R1: '))).toContain('r=150');
    expect(tracefsState()).toEqual(before);
  });

  it("p/r probes: this kernel has no kprobe_events, said clearly before anything is created", () => {
    const before = tracefsState();
    let err: unknown;
    try {
      TraceSession.open(plans(['e sched/sched_process_exec', 'p do_filp_open dfd=%0'], `lbc_${process.pid}`), { instance: `lbc-${process.pid}`, stack: false });
    } catch (e) {
      err = e;
    }
    expect(isLbcError(err, 'LBC_ERR_TRACE_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toContain('no /sys/kernel/tracing/kprobe_events (CONFIG_KPROBE_EVENTS is off)');
    expect(tracefsState()).toEqual(before);
  });

  it('a probe the kernel rejects (bad filter) fails with its error_log reason and removes what was already made', () => {
    const before = tracefsState();
    let err: unknown;
    try {
      TraceSession.open(plans([`P ${app}:lbc_probe_me a=%0 f:a~"x*"`], `lbc_${process.pid}`), { instance: `lbc-${process.pid}`, stack: false });
    } catch (e) {
      err = e;
    }
    expect(isLbcError(err, 'LBC_ERR_TRACEFS')).toBe(true);
    expect((err as Error).message).toContain('/filter');
    expect((err as Error).message).toContain('the kernel says: parse_error: Expecting numeric field');
    expect(tracefsState()).toEqual(before);
  });

  it('translation errors (unknown member, unknown type, unknown symbol) happen before tracefs is touched', () => {
    const before = tracefsState();
    for (const line of [`P ${app}:lbc_probe_me x=%1->xx`, `P ${app}:lbc_probe_me x=!(struct pointt *)%1->x`, `P ${app}:lbc_probe_mee`, 'e sched/nope']) {
      let err: unknown;
      try {
        plans([line], 'lbc_x');
      } catch (e) {
        err = e;
      }
      expect(isLbcError(err), line).toBe(true);
    }
    const member = (() => {
      try {
        plans([`P ${app}:lbc_probe_me x=%1->nmae`], 'g');
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(member).toContain("unknown member 'nmae' of struct point; did you mean 'name'?");
    expect(tracefsState()).toEqual(before);
  });

  it('instances and probes of a dead run are swept at the next start; a live run is left alone', async () => {
    const dead = spawn('/bin/true');
    await new Promise((r) => dead.once('exit', r));
    const pid = dead.pid!;
    mkdirSync(`${root}/instances/lbc-${pid}`);
    appendFileSync(`${root}/uprobe_events`, `p:lbc_${pid}/P0 ${app}:0x${resolveSymbolOffset(app, 'lbc_probe_me').toString(16)}\n`);
    writeFileSync(`${root}/instances/lbc-${pid}/events/lbc_${pid}/P0/enable`, '1');
    const live = `lbc-${process.ppid}`;
    mkdirSync(`${root}/instances/${live}`);
    try {
      const session = TraceSession.open(plans(['e sched/sched_process_exec'], `lbc_${process.pid}`), { instance: `lbc-${process.pid}`, stack: false });
      session.close();
      // Leftovers of other dead runs (a killed test run) may be swept as well: ours must be among them.
      expect(session.swept.instances).toContain(`lbc-${pid}`);
      expect(session.swept.probes).toContain(`lbc_${pid}/P0`);
      const after = tracefsState();
      expect(after.instances).toContain(live);
      expect(after.instances).not.toContain(`lbc-${pid}`);
      expect(after.probes.filter((l) => l.includes(`lbc_${pid}/`))).toEqual([]);
    } finally {
      rmSync(`${root}/instances/${live}`, { recursive: true, force: true });
    }
  });
});
