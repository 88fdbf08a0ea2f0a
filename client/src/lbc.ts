import { LbcError, validateCflags } from '@lbc/contract';
import type { NativeLink, NativeObject, NativeProgramInfo } from './native/types.ts';
import { loadNative } from './native/index.ts';
import { createMaps, type LbcMaps } from './maps/index.ts';
import * as attach from './attach/index.ts';
import { obtainObject, type ObtainedObject } from './cache/obtain-object.ts';
import { resolveCacheDir } from './cache/cache-dir.ts';
import { resolveSource } from './source/resolve-source.ts';
import { collectLocalIncludes } from './source/local-includes.ts';
import { trackForExit, untrackForExit } from './lifecycle/exit-cleanup.ts';
import { optionCflags, type LbcOptions } from './lbc-options.ts';

/**
 * pylcc's ClbcBase for Node: `new Lbc(name, source?)` compiles through the service (or takes the
 * locally cached object), loads it, attaches every program by section name, and exposes typed maps.
 * The attach methods take the program's C function name first, like pylcc's attach_* calls.
 */
export class Lbc {
  readonly name: string;
  /** Resolves to this instance once loaded (and attached unless `attach: false`). */
  readonly ready: Promise<this>;
  /** Where the object came from: 'cache' means no request was made. Set once ready. */
  origin: ObtainedObject['from'] | undefined;
  /** The compiler's warnings for this object ('' when none). */
  warnings = '';
  /** Programs whose section names no target (SEC("uprobe"), SEC("xdp"), ...): attach them by hand. */
  unattached: Array<{ prog: string; section: string }> = [];

  private object: NativeObject | undefined;
  private mapSet: LbcMaps | undefined;
  private programList: NativeProgramInfo[] = [];
  private readonly links: NativeLink[] = [];
  private closed = false;

  constructor(name: string, source?: string, options: LbcOptions = {}) {
    this.name = name;
    this.ready = this.start(source, options);
    // The caller sees the rejection when awaiting ready; do not also crash the process for it meanwhile.
    this.ready.catch(() => undefined);
  }

  private async start(sourceText: string | undefined, options: LbcOptions): Promise<this> {
    const { source, dir } = resolveSource(this.name, sourceText, options.cwd);
    const cflags = validateCflags(optionCflags(options));
    const includes = collectLocalIncludes(source, [dir, ...(options.includePaths ?? [])], options.includes);
    const obtained = await obtainObject({
      name: this.name,
      source,
      includes,
      cflags,
      cacheDir: resolveCacheDir(options.cacheDir),
      server: options.server,
      token: options.token,
      target: options.target,
      onProgress: options.onProgress,
    });
    this.origin = obtained.from;
    this.warnings = obtained.entry.warnings;
    if (this.closed) return this;

    const native = loadNative();
    const btfCustomPath = options.btfCustomPath ?? obtained.entry.btfCustomPath;
    const object = native.openObject(obtained.object, this.name, btfCustomPath ? { btfCustomPath } : {});
    this.object = object;
    trackForExit(this);
    try {
      attach.loadObject(object, this.name);
      this.programList = object.programs();
      this.mapSet = createMaps(native, object, object.btf());
      if (options.attach !== false) {
        const { links, skipped } = attach.autoAttach(object);
        this.links.push(...links);
        this.unattached = skipped;
      }
    } catch (err) {
      this.close();
      throw err;
    }
    return this;
  }

  /** Typed maps by their C names (see client/src/maps). */
  get maps(): LbcMaps {
    if (!this.mapSet) throw this.notReady();
    return this.mapSet;
  }

  get programs(): NativeProgramInfo[] {
    if (!this.object) throw this.notReady();
    return this.programList;
  }

  /** By section name, as `attach: true` does for every program. */
  attach(prog: string): NativeLink {
    return this.keep(attach.attachBySection(this.loaded(), prog));
  }

  /** This kernel has no kprobes: the error says so and names tracepoint / raw_tp / tp_btf. */
  attachKprobe(prog: string, func: string): NativeLink {
    return this.keep(attach.attachKprobe(this.loaded(), prog, func));
  }

  attachKretprobe(prog: string, func: string): NativeLink {
    return this.keep(attach.attachKretprobe(this.loaded(), prog, func));
  }

  /** `binary` may be a path or a library name ("libc"); a symbol is resolved from the ELF, a number is a file offset. pid -1: every process. */
  attachUprobe(prog: string, pid: number, binary: string, symbolOrOffset?: string | number): NativeLink {
    return this.keep(attach.attachUprobe(this.loaded(), prog, pid, binary, symbolOrOffset));
  }

  attachUretprobe(prog: string, pid: number, binary: string, symbolOrOffset?: string | number): NativeLink {
    return this.keep(attach.attachUretprobe(this.loaded(), prog, pid, binary, symbolOrOffset));
  }

  attachTracepoint(prog: string, category: string, name: string): NativeLink {
    return this.keep(attach.attachTracepoint(this.loaded(), prog, category, name));
  }

  attachRawTracepoint(prog: string, name: string): NativeLink {
    return this.keep(attach.attachRawTracepoint(this.loaded(), prog, name));
  }

  /** fentry / fexit / tp_btf / lsm programs (their target is in the section name). */
  attachTrace(prog: string): NativeLink {
    return this.keep(attach.attachTrace(this.loaded(), prog));
  }

  attachPerfEvent(prog: string, attr: attach.PerfEventAttr, scope: attach.PerfEventScope = {}): NativeLink {
    return this.keep(attach.attachPerfEvent(this.loaded(), prog, attr, scope));
  }

  /** One perf event per online CPU (pylcc's attach_all_cpu form). */
  attachPerfEventAllCpus(prog: string, attr: attach.PerfEventAttr, scope: { pid?: number } = {}): NativeLink[] {
    const links = attach.attachPerfEventAllCpus(this.loaded(), prog, attr, scope);
    for (const l of links) this.keep(l);
    return links;
  }

  /** `iface`: ifindex or interface name. */
  attachXdp(prog: string, iface: number | string): NativeLink {
    return this.keep(attach.attachXdp(this.loaded(), prog, iface));
  }

  /** `cgroup`: an open fd or a cgroup v2 directory path. */
  attachCgroup(prog: string, cgroup: number | string): NativeLink {
    return this.keep(attach.attachCgroup(this.loaded(), prog, cgroup));
  }

  /** `netns`: an open fd or a path such as /proc/self/ns/net. */
  attachNetns(prog: string, netns: number | string): NativeLink {
    return this.keep(attach.attachNetns(this.loaded(), prog, netns));
  }

  private keep(link: NativeLink): NativeLink {
    this.links.push(link);
    return link;
  }

  private loaded(): NativeObject {
    if (this.closed) throw new LbcError('LBC_ERR_CLOSED', this.name);
    if (!this.object) throw this.notReady();
    return this.object;
  }

  private notReady(): LbcError {
    if (this.closed) return new LbcError('LBC_ERR_CLOSED', this.name);
    return new LbcError('LBC_ERR_CLOSED', `${this.name} is not loaded yet: await lbc.ready first`);
  }

  /** Detaches every link, closes buffers and maps, and unloads the object. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    untrackForExit(this);
    for (const link of this.links.splice(0).reverse()) {
      try {
        link.destroy();
      } catch {
        // A link whose target vanished is already detached.
      }
    }
    this.mapSet?.close();
    this.mapSet = undefined;
    this.object?.close();
    this.object = undefined;
  }
}
