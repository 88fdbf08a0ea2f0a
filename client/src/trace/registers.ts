/** Register names as ftrace's fetch args spell them (%di, %x0), per architecture. */
import type { Arch } from '@lbc/contract';

interface ArchRegisters {
  /** Registers carrying the integer/pointer arguments, in order (the calling convention). */
  args: string[];
  /** Every name regs_query_register_offset() accepts. */
  all: Set<string>;
}

const X86_64: ArchRegisters = {
  args: ['di', 'si', 'dx', 'cx', 'r8', 'r9'],
  all: new Set(['ax', 'bx', 'cx', 'dx', 'si', 'di', 'bp', 'sp', 'ip', 'flags', 'cs', 'ss', 'orig_ax',
    'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15']),
};

const ARM64: ArchRegisters = {
  args: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'],
  all: new Set([...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc', 'pstate']),
};

export function registersOf(arch: Arch): ArchRegisters {
  return arch === 'aarch64' ? ARM64 : X86_64;
}
