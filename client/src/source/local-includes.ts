import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { INCLUDE_PATH_PATTERN, DEFAULT_LIMITS } from '@lbc/contract';

const QUOTED_INCLUDE = /^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"/gm;

export function quotedIncludes(text: string): string[] {
  return [...text.matchAll(QUOTED_INCLUDE)].map((m) => m[1]!);
}

/**
 * Headers the service always provides: the target kernel's vmlinux.h (a libbpf-tools checkout has
 * its own, 2.8 MB, in x86/: sent, it would be refused as too large or, smaller, silently replace
 * the target's types) and lbc.h.
 */
export function isServiceHeader(key: string): boolean {
  return posix.basename(key) === 'vmlinux.h' || key === 'lbc.h';
}

function findFile(rel: string, dirs: string[]): string | undefined {
  for (const dir of dirs) {
    const p = join(dir, rel);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return undefined;
}

/**
 * The program's own headers, read from disk so the service can compile them: every quoted include
 * (transitively) that exists under the source's directory or an include path. Names the service
 * provides itself (lbc.h, any vmlinux.h) are never read or sent, explicit ones included; headers
 * not found locally are left for the service to resolve or reject; paths the service would
 * refuse (absolute, "..") are not read at all.
 */
export function collectLocalIncludes(
  source: string,
  searchDirs: string[],
  explicit: Record<string, string> = {},
): Record<string, string> {
  const own = Object.entries(explicit).filter(([key]) => !isServiceHeader(key));
  const found: Record<string, string> = Object.fromEntries(own);
  const pending: Array<{ text: string; fromKey?: string }> = [{ text: source }, ...own.map(([fromKey, text]) => ({ text, fromKey }))];
  while (pending.length > 0 && Object.keys(found).length < DEFAULT_LIMITS.maxIncludes) {
    const { text, fromKey } = pending.pop()!;
    for (const inc of quotedIncludes(text)) {
      // Like clang: the including file's own directory first, then the search path.
      const candidates = fromKey && posix.dirname(fromKey) !== '.' ? [posix.normalize(posix.join(posix.dirname(fromKey), inc)), inc] : [inc];
      for (const key of candidates) {
        if (!INCLUDE_PATH_PATTERN.test(key)) continue;
        if (key in found || isServiceHeader(key)) break;
        const file = findFile(key, searchDirs);
        if (!file) continue;
        const body = readFileSync(file, 'utf8');
        found[key] = body;
        pending.push({ text: body, fromKey: key });
        break;
      }
    }
  }
  return found;
}
