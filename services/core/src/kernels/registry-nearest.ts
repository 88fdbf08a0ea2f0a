/**
 * Ranks known kernels by how close their release is to a wanted one, for the suggestions of a
 * 404: numeric version components first (6.1.0-50 is nearer 6.1.0-48 than 6.12), then the
 * edit distance of the whole string to order flavours (-cloud-amd64 vs -amd64).
 */
import type { KernelInfo } from '@lbc/contract';

const components = (release: string): number[] => (release.match(/\d+/g) ?? []).map(Number);

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** [shared leading components (more is nearer), gap at the first differing one, edit distance]. */
function distance(wanted: number[], wantedText: string, release: string): [number, number, number] {
  const have = components(release);
  let shared = 0;
  while (shared < wanted.length && shared < have.length && wanted[shared] === have[shared]) shared++;
  const gap = shared < wanted.length && shared < have.length ? Math.abs(wanted[shared]! - have[shared]!) : 0;
  return [-shared, gap, editDistance(wantedText, release)];
}

export function rankByNearness(release: string, kernels: KernelInfo[]): KernelInfo[] {
  const wanted = components(release);
  const scored = kernels.map((k) => ({ k, d: distance(wanted, release, k.release) }));
  scored.sort((x, y) => x.d[0] - y.d[0] || x.d[1] - y.d[1] || x.d[2] - y.d[2] || y.k.createdAt.localeCompare(x.k.createdAt));
  return scored.map((s) => s.k);
}
