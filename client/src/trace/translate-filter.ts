/**
 * f:EXPR → an ftrace event filter. The syntax is ftrace's own (&&, ||, !, parentheses, ==, !=, <,
 * <=, >, >=, &, ~); field names are checked against what the event records, and literals compared
 * with ip_* / b16_* ... fields are converted to the raw value the probe stores (ip_src==127.0.0.1).
 */
import type { ProbeSpec } from './ast.ts';
import { didYouMean, traceError } from './trace-error.ts';
import { rawLiteral, type Conversion } from './value-conversions.ts';

/** Fields every event has, and ftrace's special filter names. */
export const COMMON_FIELDS = ['common_type', 'common_flags', 'common_preempt_count', 'common_pid', 'COMM', 'CPU', 'common_cpu', 'common_comm'];

const OPERATORS = ['==', '!=', '>=', '<=', '>', '<', '~', '&'];

export function translateFilter(spec: ProbeSpec, fields: string[] | undefined, conversions: Record<string, Conversion>): string | undefined {
  if (!spec.filter) return undefined;
  const { text, start } = spec.filter;
  const known = fields ? new Set([...fields, ...COMMON_FIELDS]) : undefined;
  const fail = (what: string, at: number, len: number): never => {
    throw traceError('LBC_ERR_TRACE_SYNTAX', what, spec.line, { start: start + at, end: start + at + len });
  };
  let out = '';
  let i = 0;
  let comparisons = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s|[()!&|]/.test(c)) {
      out += c;
      i++;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0] ?? fail(`expected a field name in the filter, found '${c}'`, i, 1);
    if (known && !known.has(name)) {
      const kinds = spec.kind === 'e' ? `fields of ${spec.target}` : 'arguments of this probe';
      throw traceError('LBC_ERR_TRACE_UNKNOWN', `unknown field '${name}' in the filter${didYouMean(name, known)} (${kinds}: ${fields!.join(', ') || 'none'})`, spec.line, {
        start: start + i,
        end: start + i + name.length,
      });
    }
    out += name;
    i += name.length;
    while (text[i] === ' ') out += text[i++];
    const op = OPERATORS.find((o) => text.startsWith(o, i)) ?? fail(`expected a comparison (==, !=, <, <=, >, >=, &, ~) after '${name}'`, i, 1);
    out += op;
    i += op.length;
    while (text[i] === ' ') out += text[i++];
    const value = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^\s()&|]+)/.exec(text.slice(i))?.[0] ?? fail(`expected a value after '${name}${op}'`, i, 1);
    const conversion = conversions[name];
    if (conversion) {
      const raw = rawLiteral(conversion, value) ?? fail(`'${value}' is not ${conversion.kind === 'ip' ? 'an IPv4 address' : 'a number'}, as '${name}' needs`, i, value.length);
      out += raw;
    } else {
      out += value;
    }
    i += value.length;
    comparisons++;
  }
  if (comparisons === 0) fail('the filter compares nothing', 0, text.length);
  return out;
}
