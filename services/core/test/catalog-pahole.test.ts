/**
 * The catalog against the compiler: kernel-like structs (fixtures/kernel-like.h) compiled with
 * `gcc -g`, turned into BTF by `pahole --btf_encode_detached`, indexed; then a C program compiled
 * from the same header prints offsetof()/sizeof() of every member the catalog lists, and the bit
 * position and width of every bitfield, and each must match. Prototypes must read as the header
 * declares them, and hole/padding totals as pahole counts them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { CatalogReader, buildCatalogFile } from '@lbc/core';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const HEADER = join(FIXTURES, 'kernel-like.h');
/** Catalog name → how C names the type in the offsetof program. */
const COMPOSITES: Record<string, string> = {
  task_like: 'struct task_like',
  sched_entity_like: 'struct sched_entity_like',
  rb_node_like: 'struct rb_node_like',
  holey: 'struct holey',
  packed_like: 'struct packed_like',
  value_like: 'union value_like',
  atomic_like_t: 'atomic_like_t',
};

let dir: string;
let reader: CatalogReader;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lbc-catalog-c-'));
  const obj = join(dir, 'kernel-like.o');
  const btf = join(dir, 'kernel-like.btf');
  execFileSync('gcc', ['-g', '-O1', '-c', join(FIXTURES, 'kernel-like.c'), '-o', obj]);
  execFileSync('pahole', [`--btf_encode_detached=${btf}`, obj]);
  buildCatalogFile(readFileSync(btf), join(dir, 'catalog.sqlite'), 'kernel-like');
  reader = new CatalogReader(join(dir, 'catalog.sqlite'), 'kernel-like');
});
afterAll(() => {
  reader?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A C program printing, per member path, "offset size" (or "bit first width" for bitfields). */
function offsetProgram(): string {
  const lines = ['#include <stddef.h>', '#include <stdio.h>', '#include <string.h>', `#include "${HEADER}"`, 'int main(void) {'];
  for (const [name, c] of Object.entries(COMPOSITES)) {
    lines.push(`  printf("${name} sizeof %zu\\n", sizeof(${c}));`);
    for (const m of reader.struct(name).members) {
      if (!m.name) continue; // anonymous members have no designator; their members are listed on their own
      const key = `${name}.${m.path}`;
      if (m.bitSize === 0) {
        // A flexible array member (`char tail[]`) has no sizeof; the catalog gives it 0.
        const size = m.kind === 'array' && m.type.endsWith('[0]') ? '(size_t)0' : `sizeof(((${c} *)0)->${m.path})`;
        lines.push(`  printf("${key} %zu %zu\\n", offsetof(${c}, ${m.path}), ${size});`);
      } else {
        // offsetof() cannot name a bitfield: set it to all ones in a zeroed object and find the bits.
        lines.push(
          `  { ${c} x; unsigned char *p = (unsigned char *)&x; int first = -1, n = 0; memset(&x, 0, sizeof x); x.${m.path} = -1;`,
          `    for (size_t i = 0; i < sizeof x * 8; i++) if ((p[i / 8] >> (i % 8)) & 1) { if (first < 0) first = (int)i; n++; }`,
          `    printf("${key} bit %d %d\\n", first, n); }`,
        );
      }
    }
  }
  lines.push('  return 0;', '}');
  return lines.join('\n');
}

describe('catalog of gcc-compiled kernel-like structs (BTF by pahole)', () => {
  it('every member offset and size equals offsetof()/sizeof(), every bitfield its bits', () => {
    const src = join(dir, 'offsets.c');
    const exe = join(dir, 'offsets');
    writeFileSync(src, offsetProgram());
    execFileSync('gcc', ['-w', '-o', exe, src]);
    const truth = new Map(
      execFileSync(exe)
        .toString()
        .trim()
        .split('\n')
        .map((l) => {
          const [key, ...rest] = l.split(' ');
          return [key!, rest.join(' ')] as const;
        }),
    );
    let checked = 0;
    let bitfields = 0;
    for (const name of Object.keys(COMPOSITES)) {
      const layout = reader.struct(name);
      expect(`${layout.size}`, `sizeof ${name}`).toBe(truth.get(name)!.replace('sizeof ', ''));
      for (const m of layout.members) {
        if (!m.name) continue;
        const key = `${name}.${m.path}`;
        const want = truth.get(key);
        expect(want, key).toBeDefined();
        if (m.bitSize === 0) {
          expect(`${m.offset} ${m.size}`, key).toBe(want);
          expect(m.bitOffset, key).toBe(m.offset * 8);
        } else {
          expect(`bit ${m.bitOffset} ${m.bitSize}`, key).toBe(want);
          bitfields++;
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(bitfields).toBe(4);
    // The nested path the issue names, through two named structs.
    expect(reader.struct('task_like').members.find((m) => m.path === 'se.run_node.rb_left')).toMatchObject({ depth: 2, type: 'struct rb_node_like *' });
  });

  it('members of anonymous unions and structs sit under their parent, as C addresses them', () => {
    const members = reader.struct('task_like').members;
    const anonUnion = members.find((m) => m.depth === 0 && m.name === '' && m.kind === 'union')!;
    expect(anonUnion).toMatchObject({ type: 'union {...}', path: '' });
    expect(members.filter((m) => ['flags', 'lo', 'hi'].includes(m.path)).map((m) => m.depth)).toEqual([1, 2, 2]);
  });

  it('types print as C declares them', () => {
    const decl = (path: string) => reader.struct('task_like').members.find((m) => m.path === path)!.decl;
    expect(decl('comm')).toBe('char comm[16]');
    expect(decl('name')).toBe('const char *name');
    expect(decl('fixed')).toBe('char *const fixed');
    expect(decl('release')).toBe('void (*release)(struct task_like *, int)');
    expect(decl('ops')).toBe('int (*ops[2])(const char *, long unsigned int)');
    expect(decl('children')).toBe('struct sched_entity_like *children[4]');
    expect(decl('in_iowait')).toBe('unsigned int in_iowait:3');
    expect(decl('state')).toBe('enum task_state_like state');
  });

  it('function prototypes read exactly as the header declares them', () => {
    const header = readFileSync(HEADER, 'utf8');
    const declared = [...header.matchAll(/^(.*\b(lbc_\w+)\(.*\));$/gm)].map((m) => ({ name: m[2]!, proto: m[1]! }));
    expect(declared.length).toBe(5);
    for (const { name, proto } of declared) expect(reader.func(name).proto).toBe(proto);
    expect(reader.func('lbc_open_like').params).toEqual([
      { name: 'task', type: 'struct task_like *' },
      { name: 'name', type: 'const char *' },
      { name: 'flags', type: 'long unsigned int' },
    ]);
    expect(reader.func('lbc_sum_like')).toMatchObject({ variadic: true, params: [{ name: 'count', type: 'int' }] });
    expect(reader.searchFuncs({ argType: 'struct task_like*' }).funcs.map((f) => f.name)).toEqual(['lbc_open_like', 'lbc_release_like']);
    expect(reader.searchFuncs({ returns: 'struct %' }).funcs.map((f) => f.name)).toEqual(['lbc_find_like']);
  });

  it('holes and padding add up as pahole counts them', () => {
    for (const name of ['task_like', 'holey', 'packed_like']) {
      const out = execFileSync('pahole', ['-F', 'btf', join(dir, 'kernel-like.btf'), '-C', name]).toString();
      const layout = reader.struct(name);
      const sums = /holes: (\d+), sum holes: (\d+)/.exec(out);
      expect([layout.holes, layout.holeBytes], name).toEqual(sums ? [Number(sums[1]), Number(sums[2])] : [0, 0]);
      expect(layout.padding, name).toBe(Number(/padding: (\d+)/.exec(out)?.[1] ?? 0));
    }
  });

  it('typedefs, enums and unknown names', () => {
    expect(reader.types('u32').types).toEqual([{ kind: 'typedef', name: 'u32', c: 'u32', size: 4, resolvesTo: ['unsigned int'] }]);
    expect(reader.types('enum task_state_like').types[0]!.values).toEqual([
      { name: 'TS_RUNNING', value: '0' },
      { name: 'TS_SLEEPING', value: '1' },
      { name: 'TS_HUGE', value: '2147483647' },
    ]);
    try {
      reader.struct('task_lik');
      expect.unreachable();
    } catch (err) {
      expect(isLbcError(err, 'LBC_ERR_STRUCT_NOT_FOUND')).toBe(true);
      expect((err as { details: { suggestions: string[] } }).details.suggestions[0]).toBe('task_like');
    }
  });
});
