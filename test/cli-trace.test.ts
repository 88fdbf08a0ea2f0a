/**
 * `lbc trace` as users run it: -S prints the tracefs commands, -o writes a script that traces and
 * cleans up by itself, a live trace prints events until Ctrl-C and leaves nothing behind, errors
 * point at the token, and --kernel translates with a kernel the farm knows (its BTF and arch).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ServiceClient } from '../client/src/transport/service-client.ts';
import { privateTrue } from '@lbc/test-support/private-true';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { writeVariantBtf } from '@lbc/test-support/variant-btf';
import { LBC_BIN, runCli } from '@lbc/test-support/run-cli';

const T = '/sys/kernel/tracing';

function tracefsState(): { instances: string[]; probes: string[] } {
  return {
    instances: readdirSync(`${T}/instances`).filter((n) => n.startsWith('lbc-')),
    probes: readFileSync(`${T}/uprobe_events`, 'utf8').split('\n').filter((l) => /^[pr]:lbc_/.test(l)),
  };
}

async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('lbc trace (CLI)', () => {
  const env = useServiceFixture('lbc-cli-trace-');

  it('-S prints the commands for p/r probes (which this kernel cannot run) and touches nothing', async () => {
    const before = tracefsState();
    const r = await runCli(['trace', '-S', '-s', 'p wake_up_new_task comm=%0->comm', 'r do_filp_open f=$retval f:f>0']);
    expect(r.code, r.stderr).toBe(0);
    const pid = /instances\/lbc-(\d+)/.exec(r.stdout)![1];
    expect(r.stdout).toContain(`mkdir ${T}/instances/lbc-${pid}\n`);
    expect(r.stdout).toMatch(new RegExp(`echo 'p:lbc_${pid}/p0 wake_up_new_task comm=\\+0x[0-9a-f]+\\(%di\\):string' >> ${T}/kprobe_events`));
    expect(r.stdout).toContain(`echo 'f>0' > ${T}/instances/lbc-${pid}/events/lbc_${pid}/r1/filter`);
    expect(r.stdout).toContain(`echo '1' > ${T}/instances/lbc-${pid}/options/stacktrace\n`);
    expect(r.stdout).toContain(`cat ${T}/instances/lbc-${pid}/trace_pipe`);
    expect(tracefsState()).toEqual(before);
  });

  it('errors: exit 1, the code, the reason with a suggestion and a caret under the token', async () => {
    const r = await runCli(['trace', '-S', 'p wake_up_new_task c=%0->comn']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("LBC_ERR_TRACE_UNKNOWN: A trace expression names something that does not exist: unknown member 'comn' of struct task_struct; did you mean 'comm'?");
    const line = 'p wake_up_new_task c=%0->comn';
    expect(r.stderr).toContain(`    ${line}\n    ${' '.repeat(line.indexOf('comn'))}^^^^\n`);
    expect(r.stderr).toContain('fix: ');
  });

  it('p without -S: LBC_ERR_TRACE_UNSUPPORTED naming kprobe_events, no instance or probe left', async () => {
    const before = tracefsState();
    const r = await runCli(['trace', 'e sched/sched_process_exec', 'p do_filp_open dfd=%0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LBC_ERR_TRACE_UNSUPPORTED');
    expect(r.stderr).toContain('kprobe_events (CONFIG_KPROBE_EVENTS is off)');
    expect(tracefsState()).toEqual(before);
  });

  it('a live trace prints the filtered event as it comes and removes its instance on Ctrl-C', async () => {
    const before = tracefsState();
    const mine = privateTrue();
    const child = spawn(process.execPath, [LBC_BIN, 'trace', `e sched/sched_process_exec f:filename~"*${mine.comm}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    await waitFor(() => err.includes('Ctrl-C to stop') || child.exitCode !== null, 'lbc trace to start');
    expect(err).toContain(`instances/lbc-${child.pid}`);
    execFileSync(mine.path);
    await waitFor(() => out.includes(mine.comm), 'the exec event');
    expect(out).toContain(`sched_process_exec: filename=${mine.path}`);
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    expect(tracefsState()).toEqual(before);
  });

  it('-o FILE writes a script that traces under its own pid and cleans up on Ctrl-C', async () => {
    const before = tracefsState();
    const app = join(env.dir, 'app');
    writeFileSync(`${app}.c`, 'struct s { int v; char tag[8]; };\n__attribute__((noinline)) int hit(struct s *p) { return p->v; }\nint main(void) { struct s x = { 7, "tagged" }; return hit(&x) != 7; }\n');
    execFileSync('gcc', ['-g', '-O0', '-o', app, `${app}.c`]);
    const script = join(env.dir, 'trace.sh');
    const r = await runCli(['trace', '-o', script, `P ${app}:hit v=%0->v tag=%0->tag`]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(script, 'utf8')).toContain("trap 'cleanup; exit 0' INT TERM");
    const sh = spawn('sh', [script], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    sh.stdout.on('data', (d) => (out += d));
    await waitFor(() => readdirSync(`${T}/instances`).includes(`lbc-${sh.pid}`) && readFileSync(`${T}/instances/lbc-${sh.pid}/tracing_on`, 'utf8').trim() === '1', 'the script to set up');
    expect(readFileSync(`${T}/uprobe_events`, 'utf8')).toContain(`p:lbc_${sh.pid}/P0 ${app}:0x`);
    execFileSync(app);
    await waitFor(() => out.includes('v=7'), 'the uprobe event');
    expect(out).toContain('v=7 tag="tagged"');
    process.kill(-sh.pid!, 'SIGINT');
    await new Promise((res) => sh.once('exit', res));
    expect(tracefsState()).toEqual(before);
  });

  it('--kernel ID translates with a farm kernel: its BTF and its architecture (an arm64 kernel here)', async () => {
    const client = new ServiceClient({ server: env.service.url });
    const btf = readFileSync(writeVariantBtf(env.dir));
    const sha = (await import('node:crypto')).createHash('sha256').update(btf).digest('hex');
    await client.uploadKernel(sha, btf, { release: '6.1.0-lbc-trace-test', arch: 'aarch64' });
    await client.close();

    const r = await runCli(['trace', '--server', env.service.url, '--kernel', sha.slice(0, 12), '-S', 'p do_filp_open dfd=%0 n=%1->name']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/do_filp_open dfd=%x0:u32 n=\+0x0\(\+0x[0-9a-f]+\(%x1\)\):string'/);
    const byRelease = await runCli(['trace', '--server', env.service.url, '--kernel', '6.1.0-lbc-trace-test', '-S', 'p do_filp_open dfd=%0']);
    expect(byRelease.stdout).toContain('dfd=%x0:u32');
    const notHere = await runCli(['trace', '--server', env.service.url, '--kernel', sha, 'p do_filp_open']);
    expect(notHere.code).toBe(1);
    expect(notHere.stderr).toContain('LBC_ERR_TRACE_UNSUPPORTED');
    expect(notHere.stderr).toContain('add -S or -o FILE');
    const unknown = await runCli(['trace', '--server', env.service.url, '--kernel', 'no-such-kernel', '-S', 'p do_filp_open']);
    expect(unknown.stderr).toContain('LBC_ERR_KERNEL_UNKNOWN');
  });
});
