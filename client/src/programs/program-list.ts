/**
 * `lbc.programs`: an array of LbcProgram (so `lbc.programs.map(p => p.name)` keeps working) on
 * which each program is also a property by its C name: `lbc.programs.on_exec.autoload = false`.
 * A C name wins over the array's own member (a program named `map` is `lbc.programs.map`; the
 * array is still iterable: `[...lbc.programs]`), except `length` and `constructor`, which array
 * methods read themselves: those are reached through lbc.program(name). An unknown name is
 * LBC_ERR_PROGRAM_NOT_FOUND listing the programs.
 */
import { LbcError } from '@lbc/contract';
import { strictNames } from '../names/strict-names.ts';
import type { LbcProgram } from './lbc-program.ts';

export type LbcPrograms = LbcProgram[] & Record<string, LbcProgram>;

const ARRAY_MACHINERY = new Set(['length', 'constructor']);

export function programList(programs: LbcProgram[], objectName: string): LbcPrograms {
  const byName = new Map(programs.map((p) => [p.name, p]));
  return strictNames([...programs] as LbcPrograms, byName, (name) => programNotFound(programs, name, objectName), ARRAY_MACHINERY);
}

function programNotFound(programs: readonly LbcProgram[], name: string, objectName: string): LbcError {
  return new LbcError('LBC_ERR_PROGRAM_NOT_FOUND', `${objectName} has no program ${JSON.stringify(name)}; it has: ${programs.map((p) => p.name).join(', ') || 'none'}`, {
    prog: name,
    programs: programs.map((p) => p.name),
  });
}

export function findProgram(programs: readonly LbcProgram[], name: string, objectName: string): LbcProgram {
  const found = programs.find((p) => p.name === name);
  if (found) return found;
  throw programNotFound(programs, name, objectName);
}
