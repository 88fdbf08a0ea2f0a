/**
 * Per-stage timestamps along one request, for finding where a compile's time goes across the API,
 * the worker and the client (bench/cold-stages.ts). Off unless LBC_STAGE_TIMING names a file: then
 * every mark appends one line `<epoch ms, 0.01 ms> <pid> <stage> [detail]` to it. Epoch time (not a
 * process's own performance.now()) so marks from different processes line up; a synchronous append
 * so a mark is on disk in order before the next stage starts. Off, a mark costs one comparison.
 */
import { appendFileSync } from 'node:fs';

const file = process.env.LBC_STAGE_TIMING || undefined;

export const stageTimingOn = file !== undefined;

export function stageMark(stage: string, detail?: string): void {
  if (file === undefined) return;
  const at = (performance.timeOrigin + performance.now()).toFixed(2);
  appendFileSync(file, `${at} ${process.pid} ${stage}${detail ? ` ${detail}` : ''}\n`);
}
