/**
 * GET /v1/kernels?distro=&release=&arch=: the registered kernels that match, and when a release
 * matches none, the nearest releases (same filters otherwise) so the caller can pick one.
 */
import type { KernelInfo, KernelList, KernelQuery } from '@lbc/contract';
import { rankByNearness } from '../kernels/registry-nearest.ts';

const NEAREST = 5;

/** `6.1.*` / `6.1.%` match any run of characters; anything else must match exactly. */
function releaseMatcher(pattern: string): (release: string) => boolean {
  if (!/[*%]/.test(pattern)) return (release) => release === pattern;
  const re = new RegExp(`^${pattern.split(/[*%]/).map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (release) => re.test(release);
}

export function queryKernels(all: readonly KernelInfo[], q: KernelQuery): KernelList {
  const sameDistroArch = all.filter((k) => (!q.distro || k.distro === q.distro) && (!q.arch || k.arch === q.arch));
  if (!q.release) return { kernels: sameDistroArch };
  const matches = releaseMatcher(q.release);
  const kernels = sameDistroArch.filter((k) => matches(k.release));
  if (kernels.length > 0 || /[*%]/.test(q.release)) return { kernels };
  return { kernels, nearest: rankByNearness(q.release, sameDistroArch).slice(0, NEAREST) };
}
