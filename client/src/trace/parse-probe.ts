/**
 * surftrace's one-line grammar → ProbeSpec. A hand-written scanner: the grammar is small, and every
 * error has to point at a column of the line the user typed.
 *
 *   line   := KIND TARGET (NAME=EXPR)* [f:FILTER]
 *   EXPR   := [S|U|X] [!(TYPE) | @(TYPE)[l2|l3|l4]] BASE (->m | .m | [i])*
 *   BASE   := %N | %reg | $retval | $comm | $stack[N] | @symbol | @0xADDR
 */
import type { Access, ArgSpec, Base, Cast, Expr, OutputFormat, ProbeKind, ProbeSpec, Span } from './ast.ts';
import { traceError } from './trace-error.ts';

const KINDS = new Set<ProbeKind>(['p', 'r', 'e', 'P', 'R']);
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /(0x[0-9a-fA-F]+|[0-9]+)/y;

class Scanner {
  pos = 0;
  constructor(readonly line: string) {}

  get done(): boolean {
    return this.pos >= this.line.length;
  }
  peek(n = 0): string {
    return this.line[this.pos + n] ?? '';
  }
  startsWith(s: string): boolean {
    return this.line.startsWith(s, this.pos);
  }
  skipSpace(): void {
    while (!this.done && /\s/.test(this.peek())) this.pos++;
  }
  match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.line);
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
  /** Up to the next whitespace. */
  word(): string {
    const start = this.pos;
    while (!this.done && !/\s/.test(this.peek())) this.pos++;
    return this.line.slice(start, this.pos);
  }
  fail(what: string, span: Span = { start: this.pos, end: this.pos + 1 }): never {
    throw traceError('LBC_ERR_TRACE_SYNTAX', what, this.line, span);
  }
}

export function parseProbe(line: string): ProbeSpec {
  const s = new Scanner(line);
  s.skipSpace();
  const kindStart = s.pos;
  const kindWord = s.word();
  if (!KINDS.has(kindWord as ProbeKind)) {
    s.fail(
      kindWord ? `unknown probe kind '${kindWord}': use p, r (kernel function), e (trace event), P, R (user function)` : 'empty probe line',
      { start: kindStart, end: Math.max(kindStart + 1, s.pos) },
    );
  }
  const kind = kindWord as ProbeKind;
  s.skipSpace();
  const targetStart = s.pos;
  const target = s.word();
  const targetSpan = { start: targetStart, end: s.pos };
  if (!target) s.fail(`'${kind}' needs a target: ${targetHelp(kind)}`);
  const spec: ProbeSpec = { line, kind, target, targetSpan, args: [] };
  parseTarget(s, spec);

  for (;;) {
    s.skipSpace();
    if (s.done) break;
    if (s.startsWith('f:')) {
      const text = line.slice(s.pos + 2).trim();
      if (!text) s.fail("empty filter after 'f:'", { start: s.pos, end: s.pos + 2 });
      spec.filter = { text, start: line.indexOf(text, s.pos + 2) };
      break;
    }
    spec.args.push(parseArg(s));
  }
  const seen = new Map<string, Span>();
  for (const a of spec.args) {
    if (seen.has(a.name)) s.fail(`argument name '${a.name}' is used twice`, a.nameSpan);
    seen.set(a.name, a.nameSpan);
  }
  return spec;
}

function targetHelp(kind: ProbeKind): string {
  if (kind === 'e') return 'CATEGORY/EVENT, e.g. sched/sched_process_exec';
  if (kind === 'P' || kind === 'R') return 'BINARY:FUNC, e.g. libc:sleep or ./app:main';
  return 'a kernel function, e.g. do_filp_open or do_filp_open+121';
}

function parseTarget(s: Scanner, spec: ProbeSpec): void {
  const { target, targetSpan: span, kind } = spec;
  if (kind === 'e') {
    if (!/^[A-Za-z0-9_]+\/[A-Za-z0-9_]+$/.test(target)) s.fail(`bad event '${target}': ${targetHelp(kind)}`, span);
    return;
  }
  if (kind === 'P' || kind === 'R') {
    const colon = target.lastIndexOf(':');
    const func = target.slice(colon + 1);
    if (colon <= 0 || !/^[A-Za-z_.$][A-Za-z0-9_.$@]*$/.test(func)) s.fail(`bad user probe '${target}': ${targetHelp(kind)}`, span);
    spec.binary = target.slice(0, colon);
    spec.func = func;
    return;
  }
  const m = /^([A-Za-z_.][A-Za-z0-9_.]*)(?:\+(0x[0-9a-fA-F]+|[0-9]+))?$/.exec(target);
  if (!m) s.fail(`bad kernel function '${target}': ${targetHelp(kind)}`, span);
  spec.func = m[1]!;
  if (m[2] !== undefined) {
    if (kind === 'r') s.fail("a return probe takes no +OFFSET: 'r' fires where the function returns", span);
    spec.offset = Number(m[2]);
  }
}

function parseArg(s: Scanner): ArgSpec {
  const nameStart = s.pos;
  const name = s.match(IDENT);
  if (!name) s.fail("expected NAME=EXPR (or f:FILTER)");
  const nameSpan = { start: nameStart, end: s.pos };
  if (s.peek() !== '=') s.fail(`expected '=' after argument name '${name}'`);
  s.pos++;
  const exprStart = s.pos;
  let format: OutputFormat | undefined;
  if (/[SUX]/.test(s.peek()) && /[!@%$]/.test(s.peek(1))) {
    format = s.peek().toLowerCase() as OutputFormat;
    s.pos++;
  }
  const cast = parseCast(s);
  const base = parseBase(s);
  const chain = parseChain(s);
  if (!s.done && !/\s/.test(s.peek())) s.fail(`unexpected '${s.peek()}' in the expression of '${name}'`);
  return { name, nameSpan, format, expr: { cast, base, chain, span: { start: exprStart, end: s.pos } } };
}

function parseCast(s: Scanner): Cast | undefined {
  const start = s.pos;
  const skb = s.startsWith('@(');
  if (!skb && !s.startsWith('!(')) return undefined;
  s.pos += 2;
  const close = s.line.indexOf(')', s.pos);
  if (close < 0) s.fail("unclosed '(' of a cast", { start, end: s.pos });
  const type = s.line.slice(s.pos, close).trim().replace(/\s+/g, ' ');
  if (!/^(struct |union |enum )?[A-Za-z_][A-Za-z0-9_ ]*\s*\**$/.test(type)) s.fail(`bad type '${type}' in cast`, { start: s.pos, end: close });
  s.pos = close + 1;
  const span = { start, end: s.pos };
  if (!skb) return { kind: 'cast', type, span };
  let layer: 2 | 3 | 4 = 3;
  const l = s.match(/l[234]/y);
  if (l) layer = Number(l[1]) as 2 | 3 | 4;
  return { kind: 'skb', type, layer, span: { start, end: s.pos } };
}

function parseBase(s: Scanner): Base {
  const start = s.pos;
  const sigil = s.peek();
  s.pos++;
  const span = (): Span => ({ start, end: s.pos });
  if (sigil === '%') {
    const n = s.match(/[0-9]+/y);
    if (n) return { kind: 'arg', index: Number(n), span: span() };
    const reg = s.match(/[a-z][a-z0-9]*/y);
    if (reg) return { kind: 'reg', name: reg, span: span() };
    s.fail("expected an argument number (%0) or a register (%ax) after '%'", span());
  }
  if (sigil === '$') {
    const word = s.match(IDENT) ?? '';
    if (word === 'retval') return { kind: 'retval', span: span() };
    if (word === 'comm') return { kind: 'comm', span: span() };
    const st = /^stack([0-9]*)$/.exec(word);
    if (st) return { kind: 'stack', slot: st[1] ? Number(st[1]) : undefined, span: span() };
    s.fail(`unknown variable '$${word}': use $retval, $comm, $stack or $stackN`, span());
  }
  if (sigil === '@') {
    if (s.startsWith('0x')) {
      const hex = s.match(/0x[0-9a-fA-F]+/y)!;
      return { kind: 'address', value: BigInt(hex), span: span() };
    }
    const sym = s.match(/[A-Za-z_][A-Za-z0-9_]*/y);
    if (sym) return { kind: 'symbol', name: sym, span: span() };
    s.fail("expected a symbol or an address (@jiffies, @0xffff...) after '@'", span());
  }
  s.pos = start;
  s.fail('expected %N, %reg, $retval, $comm, $stack, @symbol or @0xADDR', { start, end: start + 1 });
}

function parseChain(s: Scanner): Access[] {
  const chain: Access[] = [];
  for (;;) {
    const start = s.pos;
    if (s.startsWith('->') || s.peek() === '.') {
      const op = s.startsWith('->') ? '->' : '.';
      s.pos += op.length;
      const member = s.match(IDENT);
      if (!member) s.fail(`expected a member name after '${op}'`);
      chain.push({ op, member, span: { start: start + op.length, end: s.pos } });
    } else if (s.peek() === '[') {
      s.pos++;
      const n = s.match(NUMBER);
      if (!n || s.peek() !== ']') s.fail('expected [INDEX] with a number', { start, end: s.pos + 1 });
      s.pos++;
      chain.push({ op: '[]', index: Number(n), span: { start, end: s.pos } });
    } else {
      return chain;
    }
  }
}

export type { Expr };
