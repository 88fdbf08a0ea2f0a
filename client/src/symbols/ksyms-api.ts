/**
 * The public kernel-symbol API, what libbpf-tools' trace_helpers give C tools: ksyms__load(),
 * ksyms__map_addr(addr) (the function an address falls in) and ksyms__get_symbol(name). Backed by
 * the same /proc/kallsyms table the client resolves stack frames with (text symbols only).
 */
import { kallsyms, Kallsyms } from './kallsyms.ts';

export interface Ksym {
  name: string;
  /** Start address of the function. */
  address: bigint;
  /** Bytes from `address` to the address asked about (0 for a lookup by name). */
  offset: number;
  /** Kernel module ("nf_tables") for symbols of loadable modules. */
  module?: string;
}

export interface Ksyms {
  /** ksyms__map_addr: the function `addr` falls in; null below the first symbol or where kallsyms hides addresses (kptr_restrict). */
  lookup(addr: bigint | number): Ksym | null;
  /** ksyms__get_symbol: a function by name; undefined when the kernel has none of that name. */
  symbol(name: string): Ksym | undefined;
  /** The start address of a function by name. */
  address(name: string): bigint | undefined;
  /** Number of text symbols known. */
  readonly size: number;
}

/** A table from kallsyms text (tests, or a copy of another machine's /proc/kallsyms). */
export function parseKsyms(text: string): Ksyms {
  return wrap(() => Kallsyms.parse(text));
}

/** The running kernel's symbols, read from /proc/kallsyms on first use (as stack frames are). */
export const ksyms: Ksyms = wrap(kallsyms);

function wrap(table: () => Kallsyms): Ksyms {
  let byName: Map<string, Ksym> | undefined;
  const names = (): Map<string, Ksym> => {
    if (byName) return byName;
    byName = new Map();
    for (const sym of table().symbols()) if (!byName.has(sym.name)) byName.set(sym.name, sym);
    return byName;
  };
  return {
    lookup(addr) {
      const at = typeof addr === 'bigint' ? addr : BigInt(addr);
      const sym = table().lookup(at);
      if (!sym) return null;
      const found: Ksym = { name: sym.name, address: at - BigInt(sym.offset), offset: sym.offset };
      if (sym.module) found.module = sym.module;
      return found;
    },
    symbol(name) {
      const sym = names().get(name);
      return sym && { ...sym };
    },
    address(name) {
      return names().get(name)?.address;
    },
    get size() {
      return table().size;
    },
  };
}
