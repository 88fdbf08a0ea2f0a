/**
 * One section of global variables (.rodata, .bss, .data, .data.foo, ...), typed by its BTF
 * DATASEC: each variable at the offset the DATASEC gives, read and written through the value
 * codecs. Before load the bytes are a copy libbpf gets back at load (bpf_map__set_initial_value);
 * after load .bss/.data are the map itself, mapped into the process; .rodata is frozen.
 */
import { LbcError } from '@lbc/contract';
import type { Btf } from '@lbc/btf';
import type { NativeAddon, NativeMapInfo, NativeObject } from '../native/types.ts';
import type { ObjectLifecycle } from '../lifecycle/object-lifecycle.ts';
import { codecFor, type Codec } from '../values/index.ts';

export interface GlobalVariable {
  name: string;
  /** C spelling, e.g. "const volatile __u32". */
  cType: string;
  offset: number;
  size: number;
  codec: Codec;
}

const BPF_F_MMAPABLE = 1 << 10;

export class GlobalSection {
  readonly variables: ReadonlyMap<string, GlobalVariable>;
  /** Frozen at load: the kernel refuses writes (and so does this view). */
  readonly readOnly: boolean;
  private bytes: Buffer;
  /** Whether afterLoad() made the bytes the live map's (in the same step as the object's load). */
  private live = false;
  private mapFd = -1;
  private mapped = false;
  private native: NativeAddon | undefined;
  /** The mmap of a loaded writable map (BPF_F_MMAPABLE); without it, each access is a syscall. */
  private mapping: ArrayBuffer | undefined;

  constructor(
    /** The ELF section name, e.g. ".rodata" or ".data.tuning". */
    readonly section: string,
    /** libbpf's name for the map ("<object>.bss", or the section name for custom sections). */
    readonly mapName: string,
    variables: GlobalVariable[],
    initial: Buffer,
    private readonly lifecycle: ObjectLifecycle,
  ) {
    this.variables = new Map(variables.map((v) => [v.name, v]));
    this.readOnly = section === '.rodata' || section.startsWith('.rodata.');
    this.bytes = initial;
  }

  get(name: string): unknown {
    const v = this.variable(name, 'read');
    return v.codec.decode(this.current(), v.offset);
  }

  set(name: string, value: unknown): void {
    const v = this.variable(name, 'set');
    if (this.lifecycle.isLoaded && this.readOnly) {
      throw new LbcError(
        'LBC_ERR_GLOBAL_READ_ONLY',
        `${this.lifecycle.objectName}: ${this.section} variable ${name} (${v.cType}) was frozen at load; it cannot be set any more`,
        { section: this.section, variable: name, cType: v.cType },
      );
    }
    let encoded: Buffer;
    try {
      encoded = v.codec.encode(value, name);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      throw new LbcError(
        'LBC_ERR_GLOBAL_VALUE',
        `${this.lifecycle.objectName}: ${this.section} variable ${name} is ${v.cType}: ${err.message}`,
        { section: this.section, variable: name, cType: v.cType },
        { cause: err },
      );
    }
    if (this.live && !this.mapped) this.writeThroughSyscall(v.offset, encoded);
    else encoded.copy(this.bytes, v.offset);
  }

  /** Every variable decoded, by name. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of this.variables.keys()) out[name] = this.get(name);
    return out;
  }

  /** Hands the edited bytes to libbpf, which creates the map with them. */
  beforeLoad(object: NativeObject): void {
    object.setMapInitialValue(this.section, this.bytes);
  }

  /**
   * After load: writable sections become the map's own memory (mmap of BPF_F_MMAPABLE maps, else
   * a lookup/update per access); .rodata keeps the bytes it was loaded with, for reading.
   */
  afterLoad(native: NativeAddon, info: NativeMapInfo): void {
    this.mapFd = info.fd;
    if (this.readOnly || info.fd < 0) return;
    this.live = true;
    this.native = native;
    if (info.mapFlags & BPF_F_MMAPABLE) {
      this.mapping = native.mapGlobalData(info.fd, info.valueSize, true);
      this.bytes = Buffer.from(this.mapping);
      this.mapped = true;
    }
  }

  /** Unmaps the live value: a mapping would keep the kernel's map alive after the object closes. */
  close(): void {
    this.live = false;
    if (this.mapping) this.native?.unmapGlobalData(this.mapping);
    this.mapping = undefined;
    this.bytes = Buffer.alloc(0);
  }

  private current(): Buffer {
    if (this.live && !this.mapped) {
      return this.native!.mapLookup(this.mapFd, Buffer.alloc(4), this.bytes.length) ?? this.bytes;
    }
    return this.bytes;
  }

  private writeThroughSyscall(offset: number, encoded: Buffer): void {
    const value = Buffer.from(this.current());
    encoded.copy(value, offset);
    this.native!.mapUpdate(this.mapFd, Buffer.alloc(4), value, 0);
  }

  private variable(name: string, op: 'read' | 'set'): GlobalVariable {
    this.lifecycle.require('ready', { kind: 'global', section: this.section, variable: name });
    const v = this.variables.get(name);
    if (v) return v;
    const known = [...this.variables.values()].map((x) => `${x.name} (${x.cType})`).join(', ') || 'none';
    throw new LbcError(
      'LBC_ERR_GLOBAL_NOT_FOUND',
      `${this.lifecycle.objectName}: ${this.section} has no variable ${JSON.stringify(name)} to ${op}; its variables: ${known}`,
      { section: this.section, variable: name, known: [...this.variables.keys()] },
    );
  }
}

/** The section's variables from its BTF DATASEC (offsets as libbpf finalised them at open). */
export function sectionVariables(btf: Btf, datasecId: number): GlobalVariable[] {
  const sec = btf.type(datasecId);
  if (sec.kind !== 'datasec') return [];
  const out: GlobalVariable[] = [];
  for (const entry of sec.vars) {
    const v = btf.type(entry.type);
    if (v.kind !== 'var' || !v.name) continue;
    const codec = codecFor(btf, v.type);
    out.push({ name: v.name, cType: codec.cType, offset: entry.offset, size: entry.size, codec });
  }
  return out;
}
