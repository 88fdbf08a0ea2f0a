import { LbcError, type ErrorCode } from '@lbc/contract';
import { distance } from 'fastest-levenshtein';
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

/**
 * "; did you mean 'x'?" for the nearest candidate, when it is near enough to be a typo. Ties go to
 * the candidate with the same letters (a transposition: flie → file), then the same length.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const limit = Math.max(2, Math.floor(word.length / 3));
  const letters = (w: string) => [...w].sort().join('');
  const wordLetters = letters(word);
  let best: { name: string; score: number } | undefined;
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) > limit) continue;
    const d = distance(word, c);
    if (d > limit) continue;
    const score = d * 4 + (letters(c) === wordLetters ? 0 : 2) + (c.length === word.length ? 0 : 1);
    if (!best || score < best.score) best = { name: c, score };
  }
  return best ? `; did you mean '${best.name}'?` : '';
}
