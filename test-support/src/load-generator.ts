/**
 * Load on a running farm: many concurrent clients sending compile requests over a fixed set of
 * distinct sources, every answer checked. Each source declares a map named after its index, so a
 * downloaded object can be told apart from any other source's. Used by test/farm-load.test.ts
 * (assertions) and bench/load.ts (figures).
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CompileResult } from '@lbc/contract';

export interface LoadOptions {
  url: string;
  target: { release: string; arch: string };
  requests: number;
  sources: number;
  clients: number;
  /** Makes this run's sources new to the farm's caches. */
  tag: string;
  waitMs?: number;
}

export interface LoadSample {
  source: number;
  ms: number;
  status: number;
  cached?: boolean;
  sha256?: string;
}

export interface LoadResult {
  samples: LoadSample[];
  wallMs: number;
  /** Every answer that was not right, described. Empty on success. */
  wrong: string[];
  /** sha256 of each source's object. */
  objects: Map<number, string>;
}

export const mapNameOf = (tag: string, source: number) => `m_${tag}_${source}`;

export function loadSource(tag: string, source: number): string {
  return `#include "lbc.h"
LBC_ARRAY(${mapNameOf(tag, source)}, u64, 1);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) {
  u32 k = 0; u64 *v = bpf_map_lookup_elem(&${mapNameOf(tag, source)}, &k);
  if (v) __sync_fetch_and_add(v, ${source + 1});
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const samples: LoadSample[] = [];
  const wrong: string[] = [];
  const bodies = Array.from({ length: opts.sources }, (_, i) => JSON.stringify({ name: 'load', source: loadSource(opts.tag, i), target: opts.target, waitMs: opts.waitMs ?? 120_000 }));
  let next = 0;
  const started = performance.now();
  const client = async () => {
    for (let i = next++; i < opts.requests; i = next++) {
      const source = i % opts.sources;
      const t0 = performance.now();
      const res = await fetch(`${opts.url}/v1/compile`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[source] });
      const text = await res.text();
      const sample: LoadSample = { source, ms: performance.now() - t0, status: res.status };
      samples.push(sample);
      if (res.status !== 200) {
        wrong.push(`request ${i} (source ${source}): ${res.status} ${text.slice(0, 300)}`);
        continue;
      }
      const body = JSON.parse(text) as CompileResult;
      sample.cached = body.cached;
      sample.sha256 = body.artifact.sha256;
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, client));
  const wallMs = performance.now() - started;

  // One object per source, the same in every answer, holding that source's own map, and no two
  // sources sharing an object.
  const objects = new Map<number, string>();
  for (const s of samples) {
    if (!s.sha256) continue;
    const seen = objects.get(s.source);
    if (seen === undefined) objects.set(s.source, s.sha256);
    else if (seen !== s.sha256) wrong.push(`source ${s.source} answered with two objects: ${seen} and ${s.sha256}`);
  }
  if (new Set(objects.values()).size !== objects.size) wrong.push('two sources were answered with the same object');
  for (const [source, sha256] of objects) {
    const res = await fetch(`${opts.url}/v1/artifacts/${sha256}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) wrong.push(`artifact of source ${source}: ${res.status}`);
    else if (createHash('sha256').update(bytes).digest('hex') !== sha256) wrong.push(`artifact of source ${source} does not hash to its name`);
    else if (!bytes.includes(Buffer.from(mapNameOf(opts.tag, source)))) wrong.push(`artifact of source ${source} lacks its map ${mapNameOf(opts.tag, source)}`);
  }
  return { samples, wallMs, wrong, objects };
}
