import { CanonicalHash, type CompileTarget } from '@lbc/contract';

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
  return new CanonicalHash('lbc-client-request-v1')
    .field(input.name)
    .field(input.source)
    .map(input.includes)
    .list(input.cflags)
    .field(input.target.btfSha256 ?? '')
    .field(input.target.release)
    .field(input.target.arch ?? '')
    .hex();
}
