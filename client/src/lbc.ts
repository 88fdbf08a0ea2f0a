import { LbcError, isLbcError, validateCflags } from '@lbc/contract';
import type { NativeAddon, NativeLink, NativeObject, NativeProgramInfo } from './native/types.ts';
import { loadNative } from './native/index.ts';
import { createMaps, type LbcMaps } from './maps/index.ts';
import { obtainObject, type ObtainedObject } from './cache/obtain-object.ts';
import { resolveCacheDir } from './cache/cache-dir.ts';
import { resolveSource } from './source/resolve-source.ts';
import { collectLocalIncludes } from './source/local-includes.ts';
import { trackForExit, untrackForExit } from './lifecycle/exit-cleanup.ts';
import { optionCflags, type LbcOptions } from './lbc-options.ts';

/**
 * pylcc's ClbcBase for Node: `new Lbc(name, source?)` compiles through the service (or takes the
 * locally cached object), loads it, attaches every program by section name, and exposes typed maps.
 */
export class Lbc {
  readonly name: string;
  /** Resolves to this instance once loaded (and attached unless `attach: false`). */
  readonly ready: Promise<this>;
  /** Where the object came from: 'cache' means no request was made. Set once ready. */
  origin: ObtainedObject['from'] | undefined;
  /** The compiler's warnings for this object ('' when none). */
  warnings = '';

  private native: NativeAddon | undefined;
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
      target: options.target,
      onProgress: options.onProgress,
    });
    this.origin = obtained.from;
    this.warnings = obtained.entry.warnings;
    if (this.closed) return this;

    const native = loadNative();
    const btfCustomPath = options.btfCustomPath ?? obtained.entry.btfCustomPath;
    const object = native.openObject(obtained.object, this.name, btfCustomPath ? { btfCustomPath } : {});
    this.native = native;
    this.object = object;
    trackForExit(this);
    try {
      loadObject(object, this.name);
      this.programList = object.programs();
      this.mapSet = createMaps(native, object, object.btf());
      if (options.attach !== false) for (const p of this.programList) this.links.push(this.attachProgram(p.name));
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

  /** Attaches one program by its section name (what `attach: true` does for all of them). */
  attach(prog: string): NativeLink {
    return this.keep(this.attachProgram(prog));
  }

  private attachProgram(prog: string): NativeLink {
    return this.loaded().attach(this.program(prog).name);
  }

  private program(name: string): NativeProgramInfo {
    const p = this.programList.find((x) => x.name === name);
    if (!p) throw new LbcError('LBC_ERR_PROGRAM_NOT_FOUND', `${JSON.stringify(name)} (programs: ${this.programList.map((x) => x.name).join(', ') || 'none'})`);
    return p;
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

function loadObject(object: NativeObject, name: string): void {
  try {
    object.load();
  } catch (err) {
    if (isLbcError(err)) throw err;
    const e = err as { message?: string; errno?: number; log?: string };
    const tail = (e.log ?? '').trim().split('\n').slice(-20).join('\n');
    throw new LbcError('LBC_ERR_LOAD', `${name}: ${e.message ?? String(err)}${tail ? `\n${tail}` : ''}`, { errno: e.errno, log: tail }, { cause: err });
  }
}
