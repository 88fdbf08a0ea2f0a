/**
 * Names the kernel truncates (programs and maps keep 15 characters: BPF_OBJ_NAME_LEN), read back
 * in full from the BTF the loader gave the kernel, as bpftool does for programs.
 */
import type { Btf } from '@lbc/btf';
import type { KernelMapDetail, KernelProgramDetail } from '../native/types.ts';
import type { KernelView } from './kernel-view.ts';

const KERNEL_NAME_MAX = 15;

/** Every function of the program by its BTF name, the program's own first (func_info order). */
export function functionNames(view: KernelView, prog: KernelProgramDetail): string[] {
  return prog.funcInfo.map((f) => view.typeName(prog.btfId, f.typeId) ?? `type ${f.typeId}`);
}

/** The program's full name: its main function's BTF name where there is one, else the kernel's. */
export function programFullName(view: KernelView, prog: KernelProgramDetail): string {
  const main = prog.funcInfo[0];
  const full = main ? view.typeName(prog.btfId, main.typeId) : undefined;
  return full && full.startsWith(prog.name) ? full : prog.name;
}

/**
 * A map's full name: the variable of the object's `.maps` section whose name the kernel's
 * truncated one begins, and (when several do) whose key and value types are the map's.
 */
export function mapFullName(view: KernelView, map: KernelMapDetail): string {
  if (map.name.length < KERNEL_NAME_MAX || !map.btfId) return map.name;
  const btf = view.btf(map.btfId)?.btf;
  if (!btf) return map.name;
  const candidates = mapsSectionVars(btf).filter((v) => v.name.startsWith(map.name));
  if (candidates.length === 1) return candidates[0]!.name;
  const typed = candidates.filter((v) => definesTypes(btf, v.type, map.btfKeyTypeId, map.btfValueTypeId));
  return typed.length === 1 ? typed[0]!.name : map.name;
}

function mapsSectionVars(btf: Btf): Array<{ name: string; type: number }> {
  const out: Array<{ name: string; type: number }> = [];
  for (const sec of btf.findByName('.maps', 'datasec')) {
    for (const v of sec.vars) {
      const t = btf.type(v.type);
      if (t.kind === 'var') out.push({ name: t.name, type: t.type });
    }
  }
  return out;
}

/** A BTF-defined map struct (`__type(key, K)` is a member pointing to K) naming these key and value types. */
function definesTypes(btf: Btf, structId: number, keyId: number, valueId: number): boolean {
  const s = btf.resolve(structId);
  if (s.kind !== 'struct') return false;
  const pointee = (member: string) => {
    const m = s.members.find((x) => x.name === member);
    const p = m ? btf.resolve(m.type) : undefined;
    return p?.kind === 'ptr' ? p.type : 0;
  };
  return pointee('key') === keyId && pointee('value') === valueId;
}

/** The C spelling of a map's key or value type from its BTF, when the loader recorded one. */
export function mapTypeSpelling(view: KernelView, map: KernelMapDetail, which: 'key' | 'value'): string | undefined {
  const typeId = which === 'key' ? map.btfKeyTypeId : map.btfValueTypeId;
  if (!typeId || !map.btfId) return undefined;
  const btf = view.btf(map.btfId)?.btf;
  if (!btf || typeId >= btf.types.length) return undefined;
  return btf.describe(typeId);
}
