/**
 * Global variables of an object, by section: built once at open from the maps libbpf made for
 * them and the object's BTF; pushed into libbpf before load; switched to the live maps after.
 */
import type { Btf } from '@lbc/btf';
import type { NativeAddon, NativeMapInfo, NativeObject } from '../native/types.ts';
import { ObjectLifecycle } from '../lifecycle/object-lifecycle.ts';
import { GlobalSection, sectionVariables } from './global-section.ts';
import { globalVars, type GlobalVars } from './global-vars.ts';

export { GlobalSection, type GlobalVariable } from './global-section.ts';
export type { GlobalVars } from './global-vars.ts';

/** Sections libbpf fills in itself (extern kconfig values and ksyms): never set from JS. */
const LIBBPF_OWNED = new Set(['.kconfig', '.ksyms']);

export class Globals {
  /** Every section by ELF name: '.rodata', '.bss', '.data', '.data.foo', '.rodata.foo'. */
  readonly sections: Record<string, GlobalVars> = {};
  private readonly bySection = new Map<string, GlobalSection>();

  private readonly lifecycle: ObjectLifecycle;

  /** In the phases of `lifecycle` (an Lbc's); without one, of an object opened and never loaded here (a verify plan's). */
  constructor(object: NativeObject, btf: Btf | null, lifecycle: ObjectLifecycle | string) {
    this.lifecycle = typeof lifecycle === 'string' ? new ObjectLifecycle(lifecycle, 'opened') : lifecycle;
    for (const info of object.maps()) {
      if (!info.internal || !btf || info.btfValueTypeId <= 0) continue;
      const sec = btf.type(info.btfValueTypeId);
      if (sec.kind !== 'datasec' || LIBBPF_OWNED.has(sec.name)) continue;
      const initial = object.mapInitialValue(sec.name);
      if (!initial) continue;
      const section = new GlobalSection(sec.name, info.name, sectionVariables(btf, sec.id), initial, this.lifecycle);
      this.bySection.set(sec.name, section);
      this.sections[sec.name] = globalVars(section);
    }
    for (const name of ['.rodata', '.bss', '.data']) {
      if (!this.bySection.has(name)) this.sections[name] = globalVars(new GlobalSection(name, name, [], Buffer.alloc(0), this.lifecycle));
    }
  }

  beforeLoad(object: NativeObject): void {
    for (const section of this.bySection.values()) section.beforeLoad(object);
  }

  afterLoad(native: NativeAddon, maps: NativeMapInfo[]): void {
    for (const section of this.bySection.values()) {
      const info = maps.find((m) => m.name === section.mapName);
      if (info) section.afterLoad(native, info);
    }
  }

  /** Unmaps the live sections; the lifecycle closes with them (if its owner has not yet). */
  close(): void {
    this.lifecycle.close();
    for (const section of this.bySection.values()) section.close();
  }
}
