import { CanonicalHash, type CompileTarget, type HeaderRequest } from '@lbc/contract';

export interface RequestKeyInput {
  name: string;
  source: string;
  includes: Record<string, string>;
  cflags: string[];
  target: CompileTarget;
  /** Asked for a header other than the service's choice ('auto'): a different object, a different entry. */
  header?: HeaderRequest;
}

/**
 * The client's own key for "this program for this kernel": it is known before any request, so a
 * cached object loads with no round trip. (The service's cacheKey also covers its toolchain, which
 * the client cannot know offline; an object compiled for this kernel stays valid either way.)
 */
export function requestKey(input: RequestKeyInput): string {
  const hash = new CanonicalHash('lbc-client-request-v1')
    .field(input.name)
    .field(input.source)
    .map(input.includes)
    .list(input.cflags)
    .field(input.target.btfSha256 ?? '')
    .field(input.target.release)
    .field(input.target.arch ?? '');
  // Appended only when set, so every entry cached without it keeps its key.
  if (input.header && input.header !== 'auto') hash.field('header').field(input.header);
  return hash.hex();
}
