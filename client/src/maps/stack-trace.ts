/** Stack ids from bpf_get_stackid → frames named from /proc/kallsyms or the process's ELF files. */
import { kallsyms, ProcessSymbols } from '../symbols/index.ts';
import { nativeCall, type MapContext } from './map-context.ts';

export interface StackFrame {
  address: bigint;
  /** Function name, null when no symbol covers the address. */
  name: string | null;
  /** Bytes from the start of the function (or of the module when unnamed). */
  offset: number;
  /** Kernel module, or the mapped file of a user frame. */
  module?: string;
  kernel: boolean;
  /** "name+0xoff" as bcc prints it, "[unknown]" when unnamed. */
  text: string;
}

/** x86-64 and arm64 both put the kernel in the upper half of the address space. */
const KERNEL_START = 1n << 63n;

export function readStack(ctx: MapContext, stackId: number, opts: { pid?: number } = {}): StackFrame[] {
  // bpf_get_stackid returns a negative errno when it could not record the stack.
  if (!Number.isInteger(stackId)) throw new TypeError(`stackId: expected integer, got ${typeof stackId}`);
  if (stackId < 0) return [];
  const key = ctx.key.encode(stackId, 'stackId');
  const raw = nativeCall(ctx, 'stacks', () => ctx.native.mapLookup(ctx.info.fd, key, ctx.info.valueSize));
  if (!raw) return [];
  const user = opts.pid !== undefined ? new ProcessSymbols(opts.pid) : undefined;
  const frames: StackFrame[] = [];
  for (let o = 0; o + 8 <= raw.length; o += 8) {
    const address = raw.readBigUInt64LE(o);
    if (address === 0n) break;
    frames.push(frame(address, user));
  }
  return frames;
}

function frame(address: bigint, user: ProcessSymbols | undefined): StackFrame {
  const kernel = address >= KERNEL_START;
  const sym = kernel ? kallsyms().lookup(address) : (user?.lookup(address) ?? null);
  const name = sym?.name ?? null;
  const offset = sym?.offset ?? 0;
  const f: StackFrame = { address, name, offset, kernel, text: name ? `${name}+0x${offset.toString(16)}` : '[unknown]' };
  if (sym?.module) f.module = sym.module;
  return f;
}
