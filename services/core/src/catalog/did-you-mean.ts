/**
 * "Did you mean" for names the catalog does not know: the closest spellings by edit distance
 * (typos: task_strcut), then names that contain what was typed (partial names: filp_open).
 */
import { distance } from 'fastest-levenshtein';

const MAX_SUGGESTIONS = 5;

/**
 * @param similar candidates of about the same length (the caller pre-filters by length in SQL)
 * @param containing candidates that contain the name, shortest first
 */
export function suggestNames(name: string, similar: readonly string[], containing: readonly string[]): string[] {
  const budget = Math.max(2, Math.floor(name.length / 4));
  const close = similar
    .map((candidate) => ({ candidate, d: distance(name, candidate) }))
    .filter((s) => s.d > 0 && s.d <= budget)
    .sort((a, b) => a.d - b.d || a.candidate.localeCompare(b.candidate))
    .map((s) => s.candidate);
  return [...new Set([...close, ...containing.filter((c) => c !== name)])].slice(0, MAX_SUGGESTIONS);
}
