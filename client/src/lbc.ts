import { validateCflags } from '@lbc/contract';
import type { NativeAddon, NativeLink, NativeObject } from './native/types.ts';
import { loadNative, preloadNative } from './native/index.ts';
import { createMaps, type LbcMaps, type MapSet } from './maps/index.ts';
import { Globals, type GlobalVars } from './globals/index.ts';
import {
  LbcProgram,
  chooseEventBuffer,
  perfEventArraySetup,
  findProgram,
  planFallbacks,
  probeKernelFeatures,
  programList,
  type EventBufferChoice,
  type EventBufferNames,
  type FallbackDecision,
  type LbcPrograms,
} from './programs/index.ts';
import * as attach from './attach/index.ts';
import { obtainObject, type ObtainedObject } from './obtain/obtain-object.ts';
import { parseObjectBtf } from './elf/object-btf.ts';
import { resolveCacheDir } from './cache/cache-dir.ts';
import { resolveSource } from './source/resolve-source.ts';
import { collectLocalIncludes } from './source/local-includes.ts';
import { trackForExit, untrackForExit } from './lifecycle/exit-cleanup.ts';
import { ObjectLifecycle, type Phase } from './lifecycle/object-lifecycle.ts';
import { optionCflags, type LbcOptions } from './lbc-options.ts';
import { PylccAttach } from './pylcc-attach.ts';

/**
 * pylcc's ClbcBase for Node: `new Lbc(name, source?)` compiles through the service (or takes the
 * locally cached object), loads it, attaches every program by section name, and exposes typed maps.
 * Programs attach by hand through their own objects: `lbc.programs.on_read.attachUprobe(pid, 'libc', 'read')`
 * (pylcc's program-name-first calls, `lbc.attachUprobe('on_read', ...)`, remain as aliases: pylcc-attach.ts).
 *
 * One lifecycle (lifecycle/object-lifecycle.ts), as libbpf's open → load → attach → close: with
 * `{ load: false }`, `ready` hands back the object opened but not loaded: set constants
 * (`lbc.rodata.NAME = v`), turn programs off or retarget them, size and pin maps, then
 * `await lbc.load()` and `await lbc.attach()`. One compiled object serves every such set-up.
 */
export class Lbc extends PylccAttach {
  readonly name: string;
  /** Resolves to this instance once loaded (and attached unless `attach: false`); with `load: false`, once opened. */
  readonly ready: Promise<this>;
  /** Where the object came from: 'cache' means no request was made. Set once ready. */
  origin: ObtainedObject['from'] | undefined;
  /** The compiler's warnings for this object ('' when none). */
  warnings = '';
  /** Programs whose section names no target (SEC("uprobe"), SEC("xdp"), ...): attach them by hand. */
  unattached: Array<{ prog: string; section: string }> = [];
  /** Programs turned off before load because this kernel runs their twin instead (see `fallbacks` option). */
  fallbacks: FallbackDecision[] = [];

  /** Every part of the object (maps, programs, globals) consults this one state; see its guards. */
  private readonly lifecycle: ObjectLifecycle;
  // Set together when the object opens, before the lifecycle leaves 'opening'.
  private object: NativeObject | undefined;
  private native: NativeAddon | undefined;
  private mapSet: MapSet | undefined;
  private globalSet: Globals | undefined;
  /** The programs for lbc's own use; `programSet` is the same list as users reach it, by C name first. */
  private programArray: LbcProgram[] = [];
  private programSet: LbcPrograms | undefined;
  private readonly links: NativeLink[] = [];

  constructor(name: string, source?: string, options: LbcOptions = {}) {
    super();
    this.name = name;
    this.lifecycle = new ObjectLifecycle(name);
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
      ...(options.header ? { header: options.header } : {}),
      onProgress: options.onProgress,
      // The addon (a dlopen of libbpf, ~1-5 ms) loads while the service compiles, not after its answer.
      whileCompiling: preloadNative,
    });
    this.origin = obtained.from;
    this.warnings = obtained.entry.warnings;
    if (this.lifecycle.isClosed) return this;

    const native = loadNative();
    const btfCustomPath = options.btfCustomPath ?? obtained.entry.btfCustomPath;
    const object = native.openObject(obtained.object, this.name, btfCustomPath ? { btfCustomPath } : {});
    this.object = object;
    this.native = native;
    trackForExit(this);
    try {
      const raw = object.btf();
      const btf = raw ? parseObjectBtf(raw, this.name) : null;
      const lifecycle = this.lifecycle;
      this.mapSet = createMaps(native, object, btf, { lifecycle });
      this.globalSet = new Globals(object, btf, lifecycle);
      const state = { object, lifecycle, keep: <T extends NativeLink>(link: T) => this.keep(link) };
      this.programArray = object.programs().map((info) => new LbcProgram(state, info));
      this.programSet = programList(this.programArray, this.name);
      lifecycle.opened();
      if (options.fallbacks !== false) this.turnOffTwins(native, options.twins);
      if (options.load === false) return this;
      this.loadNow();
      if (options.attach !== false) this.attachAll();
    } catch (err) {
      this.close();
      throw err;
    }
    return this;
  }

  /** 'opening' (compiling, fetching), 'opened' (set-up), 'loaded', 'attached' (a link was made), 'closed'. */
  get phase(): Phase {
    return this.lifecycle.phase;
  }

  /** Typed maps by their C names (see client/src/maps); before load, `maxEntries`, `valueSize`, `pinPath`, `reuseFd()`. */
  get maps(): LbcMaps {
    this.lifecycle.require('ready');
    return this.mapSet!.maps;
  }

  /**
   * Every program, as an array and by C name: `lbc.programs.on_exec.autoload = false` (before
   * load), `lbc.programs.on_read.attachUprobe(pid, 'libc', 'read')` (after).
   */
  get programs(): LbcPrograms {
    this.lifecycle.require('ready');
    return this.programSet!;
  }

  /** One program by C name (also those named `length` or `constructor`). */
  program(name: string): LbcProgram {
    this.lifecycle.require('ready');
    return findProgram(this.programArray, name, this.name);
  }

  /** `const volatile` globals: set before load, readable after (frozen). */
  get rodata(): GlobalVars {
    return this.globals().sections['.rodata']!;
  }

  /** Zero-initialised globals: set before load; after load the live values, readable and writable. */
  get bss(): GlobalVars {
    return this.globals().sections['.bss']!;
  }

  /** Initialised globals, as .bss. */
  get data(): GlobalVars {
    return this.globals().sections['.data']!;
  }

  /** Every section of globals by ELF name, custom ones included: `lbc.sections['.data.tuning'].bias`. */
  get sections(): Record<string, GlobalVars> {
    return this.globals().sections;
  }

  /** Loads an object opened with `{ load: false }`, with the constants, programs and maps as set up. */
  async load(): Promise<this> {
    await this.ready;
    this.lifecycle.require('setup', { kind: 'object', op: 'load' });
    try {
      this.loadNow();
    } catch (err) {
      // libbpf does not load an object twice: a failed load leaves nothing to retry with.
      this.close();
      throw err;
    }
    return this;
  }

  /**
   * Without arguments: attaches every loaded program by its section name, as `attach: true` does
   * at start (programs no section can attach are listed in `unattached`). With a program name:
   * that program only, returning its link (`lbc.programs[prog].attach()`).
   */
  attach(): Promise<this>;
  attach(prog: string): NativeLink;
  attach(prog?: string): NativeLink | Promise<this> {
    if (prog !== undefined) return this.program(prog).attach();
    return this.ready.then(() => {
      this.attachAll();
      return this;
    });
  }

  /**
   * Before load: picks the ring buffer, or its perf event array twin where this kernel has no
   * ring buffers, sets the program's flag and leaves the other map uncreated (see
   * client/src/programs/event-buffer.ts for how the program declares them). Returns the map to read.
   */
  chooseEventBuffer(names: EventBufferNames = {}, probe: { ringbuf?: boolean } = {}): EventBufferChoice {
    this.opened();
    const native = this.native!;
    const maps = this.maps;
    return chooseEventBuffer(
      {
        name: this.name,
        rodata: this.rodata,
        hasMap: (map) => map in maps,
        setMapAutocreate: (map, on) => {
          maps[map]!.autocreate = on;
        },
        makePerfEventArray: (map) => perfEventArraySetup(maps[map]!),
      },
      probe.ringbuf ?? probeKernelFeatures(native).ringbuf(),
      names,
    );
  }

  private loadNow(): void {
    const object = this.opened();
    this.globalSet!.beforeLoad(object);
    attach.loadObject(object, this.name);
    this.lifecycle.loaded();
    const maps = object.maps();
    this.mapSet!.afterLoad();
    this.globalSet!.afterLoad(this.native!, maps);
    const infos = object.programs();
    for (const p of this.programArray) {
      const info = infos.find((i) => i.name === p.name);
      if (info) p.refresh(info);
    }
  }

  private attachAll(): void {
    const { links, skipped } = attach.autoAttach(this.loaded());
    for (const link of links) this.keep(link);
    this.unattached = skipped;
  }

  private turnOffTwins(native: NativeAddon, twins: Record<string, string> | undefined): void {
    const programs = this.programArray;
    const decisions = planFallbacks(programs, probeKernelFeatures(native), twins);
    for (const d of decisions) findProgram(programs, d.prog, this.name).autoload = false;
    this.fallbacks = decisions;
  }

  private globals(): Globals {
    this.lifecycle.require('ready');
    return this.globalSet!;
  }

  /** The object before load, for set-up. */
  private opened(): NativeObject {
    this.lifecycle.require('setup');
    return this.object!;
  }

  /** The loaded object, to attach with. */
  private loaded(): NativeObject {
    this.lifecycle.require('loaded');
    return this.object!;
  }

  /**
   * Registers a struct_ops map's ops with the kernel (a TCP congestion control, ...);
   * destroy() on the link, or close(), unregisters them.
   */
  registerStructOps(map: string): NativeLink {
    return this.keep(attach.attachStructOps(this.loaded(), map));
  }

  /** Every link made through the object or its programs is kept here, and detached on close. */
  private keep<T extends NativeLink>(link: T): T {
    this.links.push(link);
    this.lifecycle.attached();
    return link;
  }

  /** Detaches every link, closes buffers and maps, and unloads the object. Idempotent. */
  close(): void {
    if (!this.lifecycle.close()) return;
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
    this.globalSet?.close();
    this.object?.close();
    this.object = undefined;
  }
}
