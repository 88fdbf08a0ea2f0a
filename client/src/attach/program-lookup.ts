import { LbcError } from '@lbc/contract';
import type { NativeObject, NativeProgramInfo } from '../native/types.ts';

export function requireProgram(object: NativeObject, prog: string): NativeProgramInfo {
  const programs = object.programs();
  const found = programs.find((p) => p.name === prog);
  if (!found) throw new LbcError('LBC_ERR_PROGRAM_NOT_FOUND', `${JSON.stringify(prog)} (programs: ${programs.map((p) => p.name).join(', ') || 'none'})`, { prog });
  return found;
}
