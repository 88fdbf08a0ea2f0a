/**
 * What the farm's verify worker borrows from the client: the plan it writes for a lab guest is what
 * this client would do to the object before load, so this code works it out, not a copy of it.
 * Not public API, and TypeScript only: `lbc-client/internal/verify` is for the farm, which always
 * runs from its sources through tsx (the package's build, dist/, does not contain it).
 */
export { parseObjectBtf } from '../elf/object-btf.ts';
export { Globals } from '../globals/index.ts';
export { loadNative, type NativeObject } from '../native/index.ts';
export { findTwins, planFallbacks, type FallbackDecision, type ProgramFacts } from '../programs/fallbacks.ts';
