/**
 * What translation consults about the machine: kallsyms, the trace events tracefs offers and their
 * fields, binaries and their symbols. For a farm kernel (--kernel) only the types are known.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { resolveLibrary, resolveSymbolOffset } from '../elf/index.ts';
import { binaryTypes } from './binary-types.ts';
import type { KernelTypes } from './kernel-types.ts';
import { locateBinary } from './locate-binary.ts';
import type { TranslateEnv } from './translate.ts';

/** kallsyms names; `data` is set only when variables are listed too (CONFIG_KALLSYMS_ALL). */
export function kernelSymbolNames(path = '/proc/kallsyms'): { all: Set<string>; data?: Set<string> } {
  const all = new Set<string>();
  let dataCount = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const parts = line.split(/\s+/);
    if (!parts[2]) continue;
    all.add(parts[2]);
    if (/^[dDbBrR]$/.test(parts[1]!)) dataCount++;
  }
  // Without KALLSYMS_ALL a few dozen variables still appear: too few to call a name unknown.
  return dataCount > 1000 ? { all, data: all } : { all };
}

export function traceEvents(root: string): Set<string> {
  const events = new Set<string>();
  const dir = `${root}/events`;
  for (const system of readdirSync(dir, { withFileTypes: true })) {
    if (!system.isDirectory()) continue;
    for (const ev of readdirSync(`${dir}/${system.name}`, { withFileTypes: true })) {
      if (ev.isDirectory()) events.add(`${system.name}/${ev.name}`);
    }
  }
  return events;
}

/** Field names from events/<system>/<event>/format ("field:char comm[16];" → comm). */
export function eventFields(root: string, system: string, event: string): string[] | undefined {
  const path = `${root}/events/${system}/${event}/format`;
  if (!existsSync(path)) return undefined;
  const fields: string[] = [];
  for (const m of readFileSync(path, 'utf8').matchAll(/field:[^;]*?([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?;/g)) fields.push(m[1]!);
  return fields;
}

export function translateEnv(types: KernelTypes, group: string, tracefsRoot: string | undefined): TranslateEnv {
  const local = types.local && tracefsRoot !== undefined;
  let symbols: ReturnType<typeof kernelSymbolNames> | undefined;
  const kallsyms = () => (symbols ??= kernelSymbolNames());
  // Types and kallsyms are read when a probe first needs them.
  return {
    arch: types.arch,
    get kernelBtf() {
      return types.btf;
    },
    group,
    get kernelSymbols() {
      return types.local ? kallsyms().all : undefined;
    },
    get dataSymbols() {
      return types.local ? kallsyms().data : undefined;
    },
    events: local ? traceEvents(tracefsRoot) : undefined,
    eventFields: local ? (s, e) => eventFields(tracefsRoot, s, e) : undefined,
    locateBinary: (name) => locateBinary(name, resolveLibrary),
    binaryTypes,
    symbolOffset: resolveSymbolOffset,
  };
}
