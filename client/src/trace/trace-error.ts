import { LbcError, type ErrorCode } from '@lbc/contract';
import { closest, distance } from 'fastest-levenshtein';
import type { Span } from './ast.ts';

/**
 * An LbcError whose message shows the probe line with a caret under the offending token:
 *   unknown member 'comn' of struct task_struct; did you mean 'comm'?
 *     p wake_up_new_task c=%0->comn
 *                              ^^^^
 */
export function traceError(code: ErrorCode, what: string, line: string, span: Span): LbcError {
  const width = Math.max(1, span.end - span.start);
  const caret = `${' '.repeat(span.start)}${'^'.repeat(width)}`;
  return new LbcError(code, `${what}\n    ${line}\n    ${caret}`, { line, column: span.start + 1, reason: what });
}

/** "; did you mean 'x'?" for the nearest of the candidates, when it is near enough to be a typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const list = [...candidates];
  if (list.length === 0) return '';
  const best = closest(word, list);
  const limit = Math.max(2, Math.floor(word.length / 3));
  return distance(word, best) <= limit ? `; did you mean '${best}'?` : '';
}
