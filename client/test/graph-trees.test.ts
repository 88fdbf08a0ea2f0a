/**
 * lbc graph's engine-independent half on this host: function_graph text (as Debian's 5.10 printed
 * it in the kernel lab, and 6.5+'s funcgraph-retval form) parsed into call trees, the filters, the
 * text and picture output, and the callee scan of machine code. The engines themselves run in the
 * kernel lab (test/lab/graph.test.ts): this kernel has neither.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { FgraphParser, type GraphCall } from '../src/graph/index.ts';
import { filterCall, globToRegExp } from '../src/graph/tree-filter.ts';
import { formatCall } from '../src/graph/tree-format.ts';
import { aggregate, flameSvg } from '../src/graph/flame-picture.ts';
import { directTargets } from '../src/graph/kernel-text.ts';
import { chooseEngine } from '../src/graph/engine-choice.ts';
import { parseDurationNs } from '../src/cli/graph-command.ts';

const FIXTURE = readFileSync(resolve(import.meta.dirname, 'fixtures/fgraph-5.10.txt'), 'utf8');

function parse(text: string): GraphCall[] {
  const calls: GraphCall[] = [];
  const p = new FgraphParser((c) => calls.push(c));
  for (const line of text.split('\n')) p.push(line);
  p.end();
  return calls;
}

const shape = (c: GraphCall) => JSON.parse(JSON.stringify(c.root, (k, v) => (k === 'durationNs' || k === 'depth' ? undefined : v)));

describe('function_graph text → call trees', () => {
  it('parses funcgraph-proc/-tail output, task by task, with durations in ns', () => {
    const calls = parse(FIXTURE);
    expect(calls.map((c) => `${c.comm}/${c.pid}`)).toEqual(['run/80', 'cat/91', 'run/80']);
    const [first] = calls;
    expect(first!.root.children.map((n) => n.func)).toEqual(['getname', 'get_unused_fd_flags', 'do_filp_open', 'fd_install', 'putname']);
    expect(first!.root.durationNs).toBe(1_521_735);
    const getname = first!.root.children[0]!;
    expect(getname).toMatchObject({ func: 'getname', depth: 1, durationNs: 245_307 });
    expect(getname.children[0]).toMatchObject({ func: 'getname_flags.part.0', depth: 2, durationNs: 111_066, children: [] });
    expect(calls[1]!.root.children.map((n) => n.func)).toContain('put_unused_fd');
  });

  it('demultiplexes interleaved tasks and reads 6.5+ return values (decimal errors, hex otherwise)', () => {
    const text = [
      ' 1)    cat-7      |               |  do_sys_openat2() {',
      ' 0)    ls-9       |               |  do_sys_openat2() {',
      ' 1)    cat-7      |   0.5 us      |    getname(); /* = 0xffff888003e1c000 */',
      ' 0)    ls-9       |   0.9 us      |    getname(); /* = 0xffff888003e1d000 */',
      ' 0)    ls-9       |               |    do_filp_open() {',
      ' 0)    ls-9       |   3.100 us    |      path_openat(); /* = -2 */',
      ' 0)    ls-9       |   4.000 us    |    } /* do_filp_open = -2 */',
      ' 1)    cat-7      | + 12.250 us   |  } /* do_sys_openat2 = 0x3 */',
      ' 0)    ls-9       | + 20.000 us   |  } /* do_sys_openat2 = -2 */',
    ].join('\n');
    const calls = parse(text);
    expect(calls.map((c) => [c.comm, c.root.ret, c.root.durationNs])).toEqual([['cat', '0x3', 12_250], ['ls', '-2', 20_000]]);
    expect(shape(calls[1]!)).toEqual({
      func: 'do_sys_openat2', ret: '-2', children: [
        { func: 'getname', ret: '0xffff888003e1d000', children: [] },
        { func: 'do_filp_open', ret: '-2', children: [{ func: 'path_openat', ret: '-2', children: [] }] },
      ],
    });
  });

  it('a return that skips open calls closes them; a trace that ends mid-call gives the call as far as it got', () => {
    const calls = parse([
      ' 0)    a-1    |               |  f() {',
      ' 0)    a-1    |               |    g() {',
      ' 0)    a-1    |   1.000 us    |  } /* f */',
      ' 0)    a-1    |               |  f() {',
      ' 0)    a-1    |   1.000 us    |    h();',
    ].join('\n'));
    expect(calls).toHaveLength(2);
    expect(calls[0]!.root.children[0]!.func).toBe('g');
    expect(calls[0]!.root.children[0]!.durationNs).toBeUndefined();
    expect(calls[1]!.root).toMatchObject({ func: 'f', children: [{ func: 'h' }] });
    expect(calls[1]!.root.durationNs).toBeUndefined();
  });
});

describe('filters, text and picture', () => {
  const [call] = parse(FIXTURE);

  it('globs match whole names, compiler clones as their function', () => {
    expect(globToRegExp('path_*').test('path_openat')).toBe(true);
    expect(globToRegExp('path_*').test('do_path_x')).toBe(false);
    expect(globToRegExp('get[nu]*').test('getname')).toBe(true);
    expect(filterCall(call!, { exclude: ['getname_flags'] })!.root.children[0]!.children).toEqual([]);
  });

  it('--include keeps paths to matches, --exclude drops subtrees, --depth cuts, --duration-min drops short calls', () => {
    const names = (c: GraphCall | undefined) => c?.root.children.map((n) => `${n.func}[${n.children.map((k) => k.func).join(',')}]`);
    expect(names(filterCall(call!, { include: ['path_*'] }))).toEqual(['do_filp_open[path_openat]']);
    expect(names(filterCall(call!, { exclude: ['getname', 'do_*'] }))).toEqual(['get_unused_fd_flags[alloc_fd]', 'fd_install[]', 'putname[kmem_cache_free]']);
    expect(names(filterCall(call!, { depth: 1 }))).toEqual(['getname[]', 'get_unused_fd_flags[]', 'do_filp_open[]', 'fd_install[]', 'putname[]']);
    expect(filterCall(call!, { durationMinNs: parseDurationNs('--duration-min', '2ms') })).toBeUndefined();
    expect(filterCall(call!, { durationMinNs: parseDurationNs('--duration-min', '1.5ms') })).toBeDefined();
  });

  it('prints like function_graph with funcgraph-tail', () => {
    const text = formatCall(call!);
    expect(text.split('\n').slice(0, 5)).toEqual([
      '# do_sys_openat2: pid 80 (run) cpu 0',
      '               |   do_sys_openat2() {',
      '               |     getname() {',
      '    111.066 us |       getname_flags.part.0();',
      '    245.307 us |     } /* getname */',
    ]);
    expect(text).toContain('   1521.735 us |   } /* do_sys_openat2 */');
  });

  it('aggregates calls by path into an SVG icicle graph with tooltips', () => {
    const calls = parse(FIXTURE);
    const top = aggregate(calls)!;
    expect(top.calls).toBe(3);
    expect(top.children.get('do_filp_open')!.children.get('path_openat')!.calls).toBe(3);
    const svg = flameSvg(calls, 'lbc graph do_sys_openat2 <test>');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('&lt;test&gt;');
    expect(svg).toMatch(/<title>path_openat: 3 call\(s\), \d+\.\d{3} us in all/);
    expect(svg).not.toMatch(/<script|href=/);
  });
});

describe('callees from machine code', () => {
  it('x86_64: call/jmp rel32 targets', () => {
    // push rbp; call +0x10; jmp -0x20
    const code = Buffer.from([0x55, 0xe8, 0x10, 0, 0, 0, 0xe9, 0xe0, 0xff, 0xff, 0xff]);
    const start = 0xffffffff81000000n;
    expect(directTargets(code, start, 'x86_64')).toEqual([start + 6n + 0x10n, start + 11n - 0x20n]);
  });

  it('arm64: bl/b imm26 targets', () => {
    const code = Buffer.alloc(8);
    code.writeUInt32LE(0x94000004, 0); // bl +16
    code.writeUInt32LE(0x17ffffff, 4); // b -4
    const start = 0xffff800008000000n;
    expect(directTargets(code, start, 'aarch64')).toEqual([start + 16n, start]);
  });
});

describe('engine choice', () => {
  const refused = 'loading a fentry program on f failed';
  it('prefers function_graph, takes BPF for --args or when function_graph is missing, and names both needs when neither is there', () => {
    expect(chooseEngine({ functionGraph: true }, 'f')).toBe('ftrace');
    expect(chooseEngine({ functionGraph: true }, 'f', undefined, true)).toBe('bpf');
    expect(chooseEngine({ functionGraph: false }, 'f')).toBe('bpf');
    let err: unknown;
    try {
      chooseEngine({ functionGraph: false, trampolineRefusal: refused, root: '/sys/kernel/tracing' }, 'f');
    } catch (e) {
      err = e;
    }
    expect(isLbcError(err, 'LBC_ERR_GRAPH_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toMatch(/neither the function_graph tracer .* nor BPF trampolines .*: loading a fentry program on f failed/);
    expect(() => chooseEngine({ functionGraph: true, trampolineRefusal: refused }, 'f', 'bpf')).toThrow(/--engine bpf needs BPF trampolines.*--engine ftrace works here/);
    expect(() => chooseEngine({ functionGraph: true }, 'f', 'dtrace')).toThrow(/--engine takes bpf or ftrace/);
  });
});
