/**
 * The last line before text from the farm's own machinery (a worker's error, a job's failure, an
 * API error) reaches a response or a job record: host paths become neutral names. What a user
 * sees may say "mkdir '<job>/src/q'", never where this host keeps its data.
 */

/** A job directory (job-dir.ts names them) under any data dir: the path up to it goes too. */
const JOB_DIR = /\/jobs\/job-[A-Za-z0-9]+/g;
const PATH_CHAR = /[^\s'"`(<>[\]{},;=]/;
/** Node's fs errors quote the path they failed on: `mkdir '/srv/lbc/...'`. */
const QUOTED_ABSOLUTE = /'\/[^'\n]*'/g;

export interface HostPathScrub {
  (text: string): string;
}

/**
 * A scrub for this process: any job directory becomes `<job>`, its `roots` (the data dir) their
 * neutral names (`{ '/srv/lbc': '<data>' }`), and, unless `keepQuotedPaths` (for a compiler's
 * diagnostics, whose quoted paths are the user's own names inside the sandbox), any absolute path
 * an error quotes `'<path>'`.
 */
export function hostPathScrub(roots: Record<string, string>, opts: { keepQuotedPaths?: boolean } = {}): HostPathScrub {
  // Longest first, so a root inside another is replaced by its own name.
  // A root counts only as a whole path ("/data" is not in "/database").
  const ordered = Object.entries(roots)
    .filter(([root]) => root.length > 1)
    .sort(([a], [b]) => b.length - a.length)
    .map(([root, name]) => [new RegExp(String.raw`(?<![\w.~+@%/-])${escapeRegExp(root.replace(/\/+$/, ''))}(?![\w.~+@%-])`, 'g'), name] as const);
  return (text: string) => {
    let out = withoutJobDirs(text);
    for (const [root, name] of ordered) out = out.replace(root, () => name);
    return opts.keepQuotedPaths ? out : out.replace(QUOTED_ABSOLUTE, "'<path>'");
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Each job directory with the path leading to it becomes `<job>` (a backward scan: linear in the text). */
function withoutJobDirs(text: string): string {
  let out = '';
  let copied = 0;
  for (const m of text.matchAll(JOB_DIR)) {
    let start = m.index;
    while (start > copied && PATH_CHAR.test(text[start - 1]!)) start--;
    out += `${text.slice(copied, start)}<job>`;
    copied = m.index + m[0].length;
  }
  return out + text.slice(copied);
}

/** The same scrub over every string inside a JSON-shaped value (a job result, an error body). */
export function scrubStrings<T>(value: T, scrub: HostPathScrub): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) return value.map((v) => scrubStrings(v, scrub)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrubStrings(v, scrub);
    return out as T;
  }
  return value;
}
