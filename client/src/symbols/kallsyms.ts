/**
 * Kernel addresses → function names via /proc/kallsyms, loaded once and binary-searched.
 * Only text symbols are kept: stack frames point into code.
 */
import { readFileSync } from 'node:fs';

export interface KernelSymbol {
  name: string;
  /** Bytes from the start of the symbol. */
  offset: number;
  /** Module name for symbols of loadable modules ("[nf_tables]" → "nf_tables"). */
  module?: string;
}

export class Kallsyms {
  private constructor(
    private readonly addrs: BigUint64Array,
    private readonly names: string[],
    private readonly modules: (string | undefined)[],
  ) {}

  static parse(text: string): Kallsyms {
    const rows: { addr: bigint; name: string; module?: string }[] = [];
    for (const line of text.split('\n')) {
      // "ffffffff81000000 T _stext" or "ffffffffc0201000 t fn\t[module]"
      const sp1 = line.indexOf(' ');
      if (sp1 < 0) continue;
      const type = line.charCodeAt(sp1 + 1) | 0x20;
      if (type !== 0x74 /* t */ && type !== 0x77 /* w */) continue;
      const rest = line.slice(sp1 + 3);
      const tab = rest.indexOf('\t');
      const addr = BigInt(`0x${line.slice(0, sp1)}`);
      if (addr === 0n) continue;
      const module = tab >= 0 ? rest.slice(tab + 1).replace(/^\[|\]$/g, '') : undefined;
      rows.push({ addr, name: tab >= 0 ? rest.slice(0, tab) : rest, module });
    }
    rows.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    return new Kallsyms(
      BigUint64Array.from(rows, (r) => r.addr),
      rows.map((r) => r.name),
      rows.map((r) => r.module),
    );
  }

  get size(): number {
    return this.addrs.length;
  }

  /** The symbol at or below `addr`; null below the first one (or when kallsyms hides addresses). */
  lookup(addr: bigint): KernelSymbol | null {
    const a = this.addrs;
    let lo = 0;
    let hi = a.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid] <= addr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return null;
    const sym: KernelSymbol = { name: this.names[found], offset: Number(addr - a[found]) };
    const module = this.modules[found];
    if (module) sym.module = module;
    return sym;
  }

  /** Every symbol in address order (the first of each name is the one libbpf-tools' ksyms__get_symbol finds). */
  *symbols(): Generator<{ name: string; address: bigint; offset: 0; module?: string }> {
    for (let i = 0; i < this.addrs.length; i++) {
      const module = this.modules[i];
      yield { name: this.names[i]!, address: this.addrs[i]!, offset: 0, ...(module ? { module } : {}) };
    }
  }

  /** Address of a named symbol (first match), for tests and attach helpers. */
  address(name: string): bigint | undefined {
    const i = this.names.indexOf(name);
    return i < 0 ? undefined : this.addrs[i];
  }
}

let loaded: Kallsyms | undefined;

/** /proc/kallsyms of the running kernel, read on first use. */
export function kallsyms(): Kallsyms {
  if (!loaded) loaded = Kallsyms.parse(readFileSync('/proc/kallsyms', 'utf8'));
  return loaded;
}
