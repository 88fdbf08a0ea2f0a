import { createHash } from 'node:crypto';
import type { CompileTarget } from '@lbc/contract';

export interface RequestKeyInput {
  name: string;
  source: string;
  includes: Record<string, string>;
  cflags: string[];
  target: CompileTarget;
}

/**
 * The client's own key for "this program for this kernel": it is known before any request, so a
 * cached object loads with no round trip. (The service's cacheKey also covers its toolchain, which
 * the client cannot know offline; an object compiled for this kernel stays valid either way.)
 */
export function requestKey(input: RequestKeyInput): string {
  const hash = createHash('sha256');
  const field = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    hash.update(`${b.length}:`).update(b).update(';');
  };
  field('lbc-client-request-v1');
  field(input.name);
  field(input.source);
  const paths = Object.keys(input.includes).sort();
  field(String(paths.length));
  for (const p of paths) {
    field(p);
    field(input.includes[p]!);
  }
  field(String(input.cflags.length));
  for (const f of input.cflags) field(f);
  field(input.target.btfSha256 ?? '');
  field(input.target.release);
  field(input.target.arch);
  return hash.digest('hex');
}
