/**
 * `lbc.programs`: an array of LbcProgram (so `lbc.programs.map(p => p.name)` keeps working) on
 * which each program is also a property by its C name: `lbc.programs.on_exec.autoload = false`.
 * A program named like an array member (map, length, ...) is reached through lbc.program(name).
 */
import { LbcError } from '@lbc/contract';
import type { LbcProgram } from './lbc-program.ts';

export type LbcPrograms = LbcProgram[] & Record<string, LbcProgram>;

export function programList(programs: LbcProgram[]): LbcPrograms {
  const list = [...programs] as LbcPrograms;
  for (const p of programs) {
    if (p.name in list) continue;
    Object.defineProperty(list, p.name, { value: p, enumerable: false });
  }
  return list;
}

export function findProgram(programs: readonly LbcProgram[], name: string, objectName: string): LbcProgram {
  const found = programs.find((p) => p.name === name);
  if (found) return found;
  throw new LbcError('LBC_ERR_PROGRAM_NOT_FOUND', `${objectName} has no program ${JSON.stringify(name)}; it has: ${programs.map((p) => p.name).join(', ') || 'none'}`, {
    prog: name,
  });
}
