/**
 * The one lifecycle of a BPF object, as libbpf has it (bpf_object__open → __load → attach → close)
 * and cilium/ebpf separates a CollectionSpec from its Collection: opened, the object is a spec to
 * set up (constants, program autoload and targets, map sizes and pins); loaded, it is in the
 * kernel and set-up is over; attached, at least one of its programs has a link; closed, nothing
 * of it may be used. Lbc, its maps, programs and global sections all consult one instance of this
 * class, so a refusal carries the same stable code whichever part refused:
 *
 *   before open (still compiling or fetching)  LBC_ERR_NOT_READY
 *   use that needs the loaded object, opened   LBC_ERR_NOT_LOADED
 *   set-up after load                          LBC_ERR_ALREADY_LOADED
 *   anything after close                       LBC_ERR_CLOSED
 */
import { LbcError } from '@lbc/contract';

export type Phase = 'opening' | 'opened' | 'loaded' | 'attached' | 'closed';

/** What a use needs: the object present (any phase from opened on), in set-up (opened only), or loaded. */
export type Need = 'ready' | 'setup' | 'loaded';

/** Who is being used, so the refusal names it: the object, or one of its maps, programs or global variables. */
export type Subject =
  | { kind: 'object'; op?: 'load' }
  | { kind: 'map'; name: string; op: string }
  | { kind: 'program'; name: string; op: string }
  | { kind: 'global'; section: string; variable: string };

const OBJECT: Subject = { kind: 'object' };

export class ObjectLifecycle {
  private current: Phase;

  /** `phase` other than 'opening' is for parts used on their own (a loaded object's maps, a verify plan's globals). */
  constructor(readonly objectName: string, phase: Phase = 'opening') {
    this.current = phase;
  }

  get phase(): Phase {
    return this.current;
  }

  /** Loaded, with or without links (and not closed). */
  get isLoaded(): boolean {
    return this.current === 'loaded' || this.current === 'attached';
  }

  get isClosed(): boolean {
    return this.current === 'closed';
  }

  /** The one guard: throws the stable error for using `subject` now, unless the phase is one `need` allows. */
  require(need: Need, subject: Subject = OBJECT): void {
    const phase = this.current;
    if (phase === 'closed') throw this.closedError(subject);
    if (phase === 'opening') throw this.notReadyError();
    if (need === 'setup' && phase !== 'opened') throw this.alreadyLoadedError(subject);
    if (need === 'loaded' && phase === 'opened') throw this.notLoadedError(subject);
  }

  /** opening → opened: the object is open and its maps, programs and globals exist. */
  opened(): void {
    this.move('opening', 'opened');
  }

  /** opened → loaded. Callers check `require('setup', { kind: 'object', op: 'load' })` first. */
  loaded(): void {
    this.move('opened', 'loaded');
  }

  /** loaded → attached, when the first link is made (later links leave it attached). */
  attached(): void {
    if (this.current === 'attached') return;
    this.move('loaded', 'attached');
  }

  /** Any phase → closed. False when it already was: closing is idempotent. */
  close(): boolean {
    if (this.current === 'closed') return false;
    this.current = 'closed';
    return true;
  }

  private move(from: Phase, to: Phase): void {
    // A wrong transition is lbc's own bug, never the user's: the guards above refuse users first.
    if (this.current !== from) throw new Error(`${this.objectName}: lifecycle ${this.current} → ${to} (expected ${from})`);
    this.current = to;
  }

  private closedError(subject: Subject): LbcError {
    switch (subject.kind) {
      case 'map':
        return new LbcError('LBC_ERR_CLOSED', `map ${subject.name}`);
      case 'global':
        return new LbcError('LBC_ERR_CLOSED', `${this.objectName}: ${subject.section}.${subject.variable}`);
      default:
        return new LbcError('LBC_ERR_CLOSED', this.objectName);
    }
  }

  private notReadyError(): LbcError {
    return new LbcError(
      'LBC_ERR_NOT_READY',
      `${this.objectName} is not ready yet (still compiling, fetching or loading): await lbc.ready first`,
      { object: this.objectName },
    );
  }

  private notLoadedError(subject: Subject): LbcError {
    if (subject.kind === 'map') {
      return new LbcError('LBC_ERR_NOT_LOADED', `map ${subject.name}.${subject.op}: the object is not loaded yet; await lbc.load() first`, { map: subject.name, op: subject.op });
    }
    return new LbcError('LBC_ERR_NOT_LOADED', `${this.objectName} is opened but not loaded: await lbc.load() first`);
  }

  private alreadyLoadedError(subject: Subject): LbcError {
    switch (subject.kind) {
      case 'map':
        return new LbcError('LBC_ERR_ALREADY_LOADED', `map ${subject.name}.${subject.op} can only be set before load`, { map: subject.name, setting: subject.op });
      case 'program':
        return new LbcError('LBC_ERR_ALREADY_LOADED', `${this.objectName}: program ${subject.name}.${subject.op} can only be set before load`, {
          prog: subject.name,
          setting: subject.op,
        });
      default:
        // Globals never need set-up: they are read and written after load too (.rodata refuses by its own rule).
        return new LbcError('LBC_ERR_ALREADY_LOADED', subject.kind === 'object' && subject.op === 'load' ? `${this.objectName} is already loaded` : `${this.objectName}: set-up applies before load only`);
    }
  }
}
