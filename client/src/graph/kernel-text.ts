/**
 * The running kernel's code as the BPF engine reads it to find callees: function addresses from
 * /proc/kallsyms (their ends: the next symbol), the bytes from /proc/kcore (an ELF core file whose
 * PT_LOAD segments map kernel virtual addresses; it shows the text as patched at run time).
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { LbcError } from '@lbc/contract';

export interface KernelFunction {
  name: string;
  addr: bigint;
  /** Bytes to the next symbol (capped). */
  size: number;
}

const MAX_FUNCTION_BYTES = 64 * 1024;

export class KernelSymbols {
  /** Text symbols by name; names listed more than once (static functions in several files) are ambiguous. */
  readonly byName = new Map<string, KernelFunction>();
  readonly ambiguous = new Set<string>();
  readonly byAddr = new Map<bigint, string>();

  static read(path = '/proc/kallsyms'): KernelSymbols {
    return new KernelSymbols(readFileSync(path, 'utf8'));
  }

  constructor(text: string) {
    const all: Array<{ addr: bigint; name: string; text: boolean }> = [];
    for (const line of text.split('\n')) {
      const m = /^([0-9a-f]+) (\w) (\S+)(\s+\[\S+\])?$/.exec(line);
      if (!m || m[4]) continue; // module symbols: kcore maps them elsewhere; callees of a module function are out of scope
      const addr = BigInt(`0x${m[1]}`);
      if (addr === 0n) continue;
      all.push({ addr, name: m[3]!, text: m[2] === 't' || m[2] === 'T' || m[2] === 'W' || m[2] === 'w' });
    }
    if (all.length === 0) throw new LbcError('LBC_ERR_GRAPH_UNSUPPORTED', `${'/proc/kallsyms'} lists no addresses (run as root, or kernel.kptr_restrict hides them): the BPF engine cannot find callees`);
    all.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    for (let i = 0; i < all.length; i++) {
      const s = all[i]!;
      if (!s.text) continue;
      let j = i + 1;
      while (j < all.length && all[j]!.addr === s.addr) j++;
      const next = all[j]?.addr ?? s.addr + BigInt(MAX_FUNCTION_BYTES);
      const size = Number(next - s.addr > BigInt(MAX_FUNCTION_BYTES) ? BigInt(MAX_FUNCTION_BYTES) : next - s.addr);
      if (this.byName.has(s.name)) this.ambiguous.add(s.name);
      else this.byName.set(s.name, { name: s.name, addr: s.addr, size });
      if (!this.byAddr.has(s.addr)) this.byAddr.set(s.addr, s.name);
    }
  }
}

interface Segment {
  offset: bigint;
  vaddr: bigint;
  size: bigint;
}

export class KernelCore {
  private constructor(private readonly fd: number, private readonly segments: Segment[]) {}

  static open(path = '/proc/kcore'): KernelCore {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new LbcError('LBC_ERR_GRAPH_UNSUPPORTED', `cannot read ${path} (${(err as NodeJS.ErrnoException).code}): the BPF engine reads the kernel's code there to find the callees (CONFIG_PROC_KCORE, root)`, { path }, { cause: err });
    }
    const head = Buffer.alloc(64);
    readSync(fd, head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) {
      closeSync(fd);
      throw new LbcError('LBC_ERR_GRAPH_UNSUPPORTED', `${path} is not a 64-bit ELF core file`);
    }
    const phoff = head.readBigUInt64LE(0x20);
    const phentsize = head.readUInt16LE(0x36);
    const phnum = head.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    const segments: Segment[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      if (table.readUInt32LE(at) !== 1) continue; // PT_LOAD
      segments.push({ offset: table.readBigUInt64LE(at + 8), vaddr: table.readBigUInt64LE(at + 16), size: table.readBigUInt64LE(at + 32) });
    }
    return new KernelCore(fd, segments);
  }

  read(addr: bigint, length: number): Buffer | undefined {
    const seg = this.segments.find((s) => addr >= s.vaddr && addr + BigInt(length) <= s.vaddr + s.size);
    if (!seg) return undefined;
    const buf = Buffer.alloc(length);
    const n = readSync(this.fd, buf, 0, length, seg.offset + (addr - seg.vaddr));
    return n === length ? buf : undefined;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Direct calls and tail jumps in a function's bytes: x86_64 `call rel32` (e8) and `jmp rel32` (e9),
 * arm64 `bl`/`b` (imm26). x86 is scanned byte by byte without decoding lengths: an e8 inside another
 * instruction is kept only when its target is exactly a function's first byte, which a stray one
 * almost never is (and would only cost an attached function that is never called from here).
 */
export function directTargets(code: Buffer, start: bigint, arch: 'x86_64' | 'aarch64'): bigint[] {
  const out: bigint[] = [];
  if (arch === 'aarch64') {
    for (let i = 0; i + 4 <= code.length; i += 4) {
      const insn = code.readUInt32LE(i);
      const op = insn >>> 26;
      if (op !== 0b100101 && op !== 0b000101) continue;
      let imm = insn & 0x3ffffff;
      if (imm & 0x2000000) imm -= 0x4000000;
      out.push(start + BigInt(i) + BigInt(imm) * 4n);
    }
    return out;
  }
  for (let i = 0; i + 5 <= code.length; i++) {
    const op = code[i];
    if (op !== 0xe8 && op !== 0xe9) continue;
    out.push(start + BigInt(i + 5) + BigInt(code.readInt32LE(i + 1)));
  }
  return out;
}
