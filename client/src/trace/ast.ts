/** The parsed form of one surftrace-style probe line ('p wake_up_new_task comm=%0->comm f:comm=="sh"'). */

/** Character range in the line the user typed, for carets under the offending token. */
export interface Span {
  start: number;
  end: number;
}

/** p/r: kprobe entry/return; e: trace event; P/R: uprobe entry/return. */
export type ProbeKind = 'p' | 'r' | 'e' | 'P' | 'R';

/** Output prefixes: S signed, U unsigned, X hex (ftrace's s/u/x types). */
export type OutputFormat = 's' | 'u' | 'x';

export type Base =
  | { kind: 'arg'; index: number; span: Span }
  | { kind: 'reg'; name: string; span: Span }
  | { kind: 'retval'; span: Span }
  | { kind: 'comm'; span: Span }
  | { kind: 'stack'; slot?: number; span: Span }
  | { kind: 'symbol'; name: string; span: Span }
  | { kind: 'address'; value: bigint; span: Span };

export type Access =
  | { op: '->' | '.'; member: string; span: Span }
  | { op: '[]'; index: number; span: Span };

/** `!(struct file *)` reinterprets the base; `@(struct iphdr *)l3` reads an skb's packet data. */
export type Cast =
  | { kind: 'cast'; type: string; span: Span }
  | { kind: 'skb'; type: string; layer: 2 | 3 | 4; span: Span };

export interface Expr {
  cast?: Cast;
  base: Base;
  chain: Access[];
  span: Span;
}

export interface ArgSpec {
  name: string;
  nameSpan: Span;
  format?: OutputFormat;
  expr: Expr;
}

export interface ProbeSpec {
  /** The line as typed; spans index into it. */
  line: string;
  kind: ProbeKind;
  /** SYMBOL[+OFF] for p/r, CATEGORY/EVENT for e, BINARY:FUNC for P/R. */
  target: string;
  targetSpan: Span;
  /** p SYMBOL+OFF: probe inside the function (arguments are then plain registers). */
  offset?: number;
  /** P/R: the binary or library part and the function part of BINARY:FUNC. */
  binary?: string;
  func?: string;
  args: ArgSpec[];
  filter?: { text: string; start: number };
}
