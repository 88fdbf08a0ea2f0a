/**
 * The kernel's BPF objects as `lbc inspect` reads them: info records by id through the addon,
 * each read once per view (a view is one snapshot's worth of look-ups), and the BTF objects that
 * name their functions and types, parsed with the project's BTF parser.
 */
import { LbcError } from '@lbc/contract';
import { parseBtf, type Btf } from '@lbc/btf';
import { loadNative } from '../native/index.ts';
import type { KernelBtfInfo, KernelLinkInfo, KernelMapDetail, KernelProgramDetail, NativeAddon } from '../native/types.ts';
import { asNativeError, errnoName } from '../attach/native-error.ts';

const EPERM = 1;
const ENOENT = 2;
const EACCES = 13;

export type ObjectKind = 'prog' | 'map' | 'link' | 'btf';
const KIND_WORD: Record<ObjectKind, string> = { prog: 'program', map: 'map', link: 'link', btf: 'BTF object' };

/** A native errno error as the catalogue names it: unknown id, missing privileges, or the call that failed. */
export function inspectError(err: unknown, kind: ObjectKind, id?: number): Error {
  const native = asNativeError(err);
  if (native.errno === ENOENT && id !== undefined) {
    return new LbcError('LBC_ERR_INSPECT_NOT_FOUND', `no ${KIND_WORD[kind]} with id ${id} is loaded`, { kind, id }, { cause: err });
  }
  if (native.errno === EPERM || native.errno === EACCES) {
    return new LbcError('LBC_ERR_INSPECT_PERMISSION', `${native.message} (${errnoName(native.errno)})`, { kind, id, errno: native.errno }, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

function guarded<T>(kind: ObjectKind, id: number | undefined, call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw inspectError(err, kind, id);
  }
}

export interface ParsedBtf {
  info: KernelBtfInfo;
  /** Null when the parser cannot read it alone (a module's BTF is split on vmlinux's). */
  btf: Btf | null;
}

// Kernel BTF (vmlinux, modules) never changes under its id: parsed once per process, as vmlinux's
// is megabytes (about 1 s on a host, far more in an emulated guest).
const kernelBtfs = new Map<number, ParsedBtf>();

export class KernelView {
  readonly native: NativeAddon;
  private readonly programs = new Map<number, KernelProgramDetail | null>();
  private readonly maps = new Map<number, KernelMapDetail | null>();
  private readonly btfs = new Map<number, ParsedBtf | null>();
  private readonly btfInfos = new Map<number, KernelBtfInfo | null>();
  private linkList?: KernelLinkInfo[];

  constructor(native: NativeAddon = loadNative()) {
    this.native = native;
  }

  ids(kind: ObjectKind): number[] {
    return guarded(kind, undefined, () => this.native.objectIds(kind));
  }

  program(id: number): KernelProgramDetail {
    const p = this.programOrNull(id);
    if (!p) throw inspectError(Object.assign(new Error(`program ${id}`), { errno: ENOENT }), 'prog', id);
    return p;
  }

  /** Null when no program has this id (any more). */
  programOrNull(id: number): KernelProgramDetail | null {
    return cachedOrNull(this.programs, id, 'prog', () => this.native.programInfo(id));
  }

  map(id: number): KernelMapDetail {
    const m = this.mapOrNull(id);
    if (!m) throw inspectError(Object.assign(new Error(`map ${id}`), { errno: ENOENT }), 'map', id);
    return m;
  }

  mapOrNull(id: number): KernelMapDetail | null {
    return cachedOrNull(this.maps, id, 'map', () => this.native.mapInfo(id));
  }

  links(): KernelLinkInfo[] {
    return (this.linkList ??= guarded('link', undefined, () => this.native.listLinks()));
  }

  btfInfo(id: number): KernelBtfInfo | null {
    if (id === 0) return null;
    return cachedOrNull(this.btfInfos, id, 'btf', () => this.native.btfInfo(id, false));
  }

  /** The BTF object with this id, parsed; null when it is gone. */
  btf(id: number): ParsedBtf | null {
    if (id === 0) return null;
    return cachedOrNull(this.btfs, id, 'btf', () => {
      const known = kernelBtfs.get(id);
      if (known && this.btfInfo(id)?.size === known.info.size) return known;
      const info = this.native.btfInfo(id, true);
      let btf: Btf | null = null;
      try {
        btf = info.data ? parseBtf(info.data) : null;
      } catch {
        btf = null;
      }
      const parsed = { info: { ...info, data: undefined }, btf };
      if (info.kernelBtf) kernelBtfs.set(id, parsed);
      return parsed;
    });
  }

  /** The name of FUNC (or any named type) `typeId` in BTF object `btfId`, when it can be read. */
  typeName(btfId: number | undefined, typeId: number): string | undefined {
    if (!btfId || !typeId) return undefined;
    const btf = this.btf(btfId)?.btf;
    if (!btf || typeId >= btf.types.length) return undefined;
    return btf.type(typeId).name || undefined;
  }
}

function cachedOrNull<T>(cache: Map<number, T | null>, id: number, kind: ObjectKind, read: () => T): T | null {
  if (cache.has(id)) return cache.get(id)!;
  let value: T | null;
  try {
    value = read();
  } catch (err) {
    if (asNativeError(err).errno !== ENOENT) throw inspectError(err, kind, id);
    value = null;
  }
  cache.set(id, value);
  return value;
}
