/**
 * lbc trace translations: surftrace's documented one-liners → kprobe_events/uprobe_events lines,
 * with every offset checked against bpftool's dump of this kernel's BTF (not hard-coded: the
 * kernel decides). p/r cannot run here (no kprobe_events) but their translation is what -S prints.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isLbcError, type LbcError } from '@lbc/contract';
import { localKernelTypes, parseProbe, translateEnv, translateProbe, findTracefs, formatValue, rawLiteral, conversionOf, type KernelTypes, type TranslateEnv } from '../src/trace/index.ts';
import { realpathSync } from 'node:fs';
import { resolveLibrary, resolveSymbolOffset } from '../src/elf/index.ts';
import { BpftoolLayout } from './fixtures/bpftool-layout.ts';

let types: KernelTypes;
let env: TranslateEnv;
let L: BpftoolLayout;

beforeAll(() => {
  types = localKernelTypes();
  env = translateEnv(types, 'g', findTracefs());
  L = new BpftoolLayout();
});

function definition(line: string, i = 0, e: TranslateEnv = env): string {
  return translateProbe(parseProbe(line), i, e).definition!.text;
}

function failure(line: string, e: TranslateEnv = env): LbcError {
  try {
    translateProbe(parseProbe(line), 0, e);
  } catch (err) {
    if (isLbcError(err)) return err;
    throw err;
  }
  throw new Error(`expected '${line}' to fail`);
}

/** The caret line under the probe line in an error message, as a column range. */
function caret(err: LbcError): { col: number; width: number } {
  const lines = err.message.split('\n');
  const c = lines[lines.length - 1]!;
  return { col: c.indexOf('^') - 4, width: c.trim().length };
}

describe('lbc trace: surftrace examples translated against this kernel', () => {
  it('entry and return probes, arguments, members, chains (offsets from bpftool)', () => {
    expect(definition('p wake_up_new_task')).toBe('p:g/p0 wake_up_new_task');
    expect(definition('r wake_up_new_task', 1)).toBe('r:g/r1 wake_up_new_task');
    expect(definition('p do_filp_open dfd=%0')).toBe('p:g/p0 do_filp_open dfd=%di:u32');
    expect(definition('p do_filp_open dfd=X%0')).toBe('p:g/p0 do_filp_open dfd=%di:x32');
    expect(definition('p wake_up_new_task comm=%0->comm')).toBe(`p:g/p0 wake_up_new_task comm=+${L.hex('task_struct', 'comm')}(%di):string`);
    expect(definition('p wake_up_new_task uesrs=S%0->mm->mm_users')).toBe(
      `p:g/p0 wake_up_new_task uesrs=+${L.hex('mm_struct', 'mm_users')}(+${L.hex('task_struct', 'mm')}(%di)):s32`,
    );
    expect(definition('p wake_up_new_task node=%0->se.run_node.rb_left')).toBe(
      `p:g/p0 wake_up_new_task node=+${L.hex('task_struct', 'se.run_node.rb_left')}(%di):u64`,
    );
    // char * member: the string it points at.
    expect(definition('p do_filp_open name=%1->name')).toBe(`p:g/p0 do_filp_open name=+0x0(+${L.hex('filename', 'name')}(%si)):string`);
    expect(definition('p do_filp_open c=$comm s=$stack')).toBe('p:g/p0 do_filp_open c=$comm s=$stack:u64');
  });

  it('return values, casts, probes inside a function, registers', () => {
    expect(definition('r do_filp_open filp=$retval')).toBe('r:g/r0 do_filp_open filp=$retval:u64');
    expect(definition('r do_filp_open pos=$retval->f_pos')).toBe(`r:g/r0 do_filp_open pos=+${L.hex('file', 'f_pos')}($retval):u64`);
    expect(definition('p do_filp_open+121 filp=X!(u64)%ax')).toBe('p:g/p0 do_filp_open+121 filp=%ax:x64');
    expect(definition('p do_filp_open+121 pos=X!(struct file*)%ax->f_pos')).toBe(`p:g/p0 do_filp_open+121 pos=+${L.hex('file', 'f_pos')}(%ax):x64`);
    // Inside a function the argument registers carry no type: a member needs a cast.
    expect(failure('p do_filp_open+121 n=%1->name').code).toBe('LBC_ERR_TRACE_TYPE');
  });

  it('globals: @symbol and @0xADDR, with a cast for their type', () => {
    expect(definition('p do_filp_open j=@jiffies')).toBe('p:g/p0 do_filp_open j=@jiffies:u64');
    expect(definition('p do_filp_open c=!(struct task_struct)@init_task.comm')).toBe(`p:g/p0 do_filp_open c=@init_task+${L.hex('task_struct', 'comm')}:string`);
    expect(definition('p do_filp_open m=!(struct task_struct *)@0xffffffff81000000->pid')).toBe(
      `p:g/p0 do_filp_open m=+${L.hex('task_struct', 'pid')}(@0xffffffff81000000):u32`,
    );
  });

  it('skb payloads at l2/l3/l4 with the cdata/sdata/Sdata pseudo-members, ip_ filters converted', () => {
    const plan = translateProbe(
      parseProbe(
        'p __netif_receive_skb_core proto=@(struct iphdr *)l3%0->protocol ip_src=@(struct iphdr *)%0->saddr ip_dst=@(struct iphdr *)l3%0->daddr data=X@(struct iphdr *)l3%0->sdata[1] f:proto==1&&ip_src==127.0.0.1',
      ),
      0,
      env,
    );
    const data = `+${L.hex('sk_buff', 'data')}(%di)`;
    const iph = L.sizeof('iphdr');
    expect(plan.definition!.text).toBe(
      `p:g/p0 __netif_receive_skb_core proto=+${L.hex('iphdr', 'protocol')}(${data}):u8 ip_src=+${L.hex('iphdr', 'saddr')}(${data}):u32` +
        ` ip_dst=+${L.hex('iphdr', 'daddr')}(${data}):u32 data=+0x${(iph + 2).toString(16)}(${data}):x16`,
    );
    expect(plan.filter).toBe('proto==1&&ip_src==0x100007f');
    const eth = L.sizeof('ethhdr');
    expect(definition('p __netif_receive_skb_core b16_sp=@(struct tcphdr *)l2%0->source t=@(struct ethhdr *)l2%0->h_proto p=@(struct udphdr *)l4%0->Sdata[0]')).toBe(
      `p:g/p0 __netif_receive_skb_core b16_sp=+0x${(eth + iph + L.offset('tcphdr', 'source')).toString(16)}(${data}):u16` +
        ` t=+${L.hex('ethhdr', 'h_proto')}(${data}):u16 p=+0x${L.sizeof('udphdr').toString(16)}(${data}):string`,
    );
    expect(failure('p __netif_receive_skb_core e=@(struct ethhdr *)l3%0->h_proto').message).toContain('cannot read struct ethhdr at layer 3');
  });

  it('trace events: the filter is checked against the event format, no probe definition', () => {
    const plan = translateProbe(parseProbe('e sched/sched_process_exec f:pid>1 && filename~"*true*"'), 0, env);
    expect(plan.definition).toBeUndefined();
    expect([plan.system, plan.event, plan.filter]).toEqual(['sched', 'sched_process_exec', 'pid>1 && filename~"*true*"']);
    const err = failure('e sched/sched_process_exec f:pidd>1');
    expect(err.code).toBe('LBC_ERR_TRACE_UNKNOWN');
    expect(err.message).toContain("unknown field 'pidd' in the filter; did you mean 'pid'?");
    expect(failure('e sched/sched_process_exek').message).toContain("did you mean 'sched/sched_process_exec'?");
  });

  it('P libc:sleep resolves the library and the symbol offset; without debug info arguments are untyped registers', () => {
    const plan = translateProbe(parseProbe('P libc:sleep secs=S%0 c=$comm'), 0, env);
    const libc = resolveLibrary('libc');
    expect(plan.definition).toEqual({
      file: 'uprobe_events',
      text: `p:g/P0 ${realpathSync(libc)}:0x${resolveSymbolOffset(libc, 'sleep').toString(16)} secs=%di:s64 c=$comm`,
    });
    expect(failure('P libc:sleep x=%0->y').message).toContain('the type here is unknown (no prototype of sleep in');
    const nosym = failure('P libc:no_such_function_here');
    expect(nosym.code).toBe('LBC_ERR_SYMBOL_NOT_FOUND');
    expect(nosym.message).toMatch(/^The symbol is not defined in the binary: no_such_function_here in \S+libc\S*\n {4}P libc:no_such_function_here\n {6}\^{26}$/);
    expect(failure('P libnosuchlib:f').code).toBe('LBC_ERR_LIBRARY_NOT_FOUND');
  });

  it('arm64: %N are x0..x7', () => {
    const arm = { ...env, arch: 'aarch64' as const };
    expect(definition('p do_filp_open dfd=%0 n=%1->name', 0, arm)).toBe(`p:g/p0 do_filp_open dfd=%x0:u32 n=+0x0(+${L.hex('filename', 'name')}(%x1)):string`);
    expect(failure('p do_filp_open x=%di', arm).message).toContain("unknown aarch64 register '%di'");
  });

  it('ip_/b16_/B32_ names: values printed converted, filter literals converted to raw', () => {
    expect(formatValue(conversionOf('ip_src')!, '16777343')).toBe('127.0.0.1');
    expect(formatValue(conversionOf('b16_port')!, '20480')).toBe('80');
    expect(formatValue(conversionOf('B32_x')!, '0x1')).toBe('0x1000000');
    expect(rawLiteral(conversionOf('ip_dst')!, '10.0.0.2')).toBe('0x200000a');
    expect(rawLiteral(conversionOf('b16_port')!, '80')).toBe('0x5000');
  });
});

describe('lbc trace: errors name the cause and point at it', () => {
  it('unknown member, with a suggestion and a caret under it', () => {
    const line = 'p wake_up_new_task c=%0->comn';
    const err = failure(line);
    expect(err.code).toBe('LBC_ERR_TRACE_UNKNOWN');
    expect(err.message).toContain("unknown member 'comn' of struct task_struct; did you mean 'comm'?");
    expect(caret(err)).toEqual({ col: line.indexOf('comn'), width: 4 });
  });

  it('unknown function, unknown cast type, argument out of range, wrong operator, struct as a value', () => {
    expect(failure('p wake_up_new_tsk').message).toContain("unknown kernel function 'wake_up_new_tsk'; did you mean 'wake_up_new_task'?");
    const cast = failure('p do_filp_open+1 x=!(struct flie *)%ax->f_pos');
    expect([cast.code, cast.message.includes("unknown type 'struct flie *'; did you mean 'struct file'?")]).toEqual(['LBC_ERR_TRACE_UNKNOWN', true]);
    expect(failure('p wake_up_new_task x=%3').message).toContain('wake_up_new_task has 1 parameter (%0..%0)');
    expect(failure('p wake_up_new_task x=%0.comm').message).toContain("struct task_struct * is a pointer: use '->comm'");
    expect(failure('p wake_up_new_task x=%0->se').message).toContain('struct sched_entity cannot be printed as one value');
    expect(failure('p do_filp_open r=$retval').message).toContain('$retval exists in return probes only');
    expect(failure('p wake_up_new_task ip_x=%0->pid f:ip_x==1.2.3').message).toContain("'1.2.3' is not an IPv4 address");
  });

  it('malformed lines are LBC_ERR_TRACE_SYNTAX with the column of the problem', () => {
    const cases: [string, string, string][] = [
      ['q do_filp_open', "unknown probe kind 'q'", 'q'],
      ['p do_filp_open x=%0->', "expected a member name after '->'", ''],
      ['p do_filp_open x%0', "expected '=' after argument name 'x'", '%'],
      ['p do_filp_open x=!(struct file *%0', "unclosed '(' of a cast", '!('],
      ['p do_filp_open x=&0', 'expected %N, %reg', '&'],
      ['e sched', "bad event 'sched'", 'sched'],
      ['P /bin/true', "bad user probe '/bin/true'", '/bin/true'],
      ['r do_filp_open+4', "a return probe takes no +OFFSET", 'do_filp_open+4'],
      ['p do_filp_open a=%0 a=%1', "argument name 'a' is used twice", 'a'],
    ];
    for (const [line, what, at] of cases) {
      let err: LbcError | undefined;
      try {
        parseProbe(line);
      } catch (e) {
        err = e as LbcError;
      }
      expect(err?.code, line).toBe('LBC_ERR_TRACE_SYNTAX');
      expect(err!.message, line).toContain(what);
      if (at) expect(caret(err!).col, line).toBe(line.lastIndexOf(at));
    }
  });
});
