/**
 * One program of an object. Before load it can be turned off (`autoload = false`: not loaded,
 * not attached) or retargeted (`attachTarget`: the kernel function of a fentry/fexit/tp_btf
 * program); after load it carries its fd and kernel id.
 */
import { LbcError } from '@lbc/contract';
import type { NativeLink, NativeObject, NativeProgramInfo } from '../native/types.ts';
import { asNativeError, errnoName } from '../attach/native-error.ts';
import * as attach from '../attach/index.ts';

export interface ProgramState {
  object: NativeObject;
  objectName: string;
  loaded: { value: boolean };
  /** The loaded object (throws when it is not loaded yet, or closed). */
  use(): NativeObject;
  /** Hands a link to the object, which detaches it on close. */
  keep<T extends NativeLink>(link: T): T;
}

export class LbcProgram implements NativeProgramInfo {
  private info: NativeProgramInfo;
  private target: string | undefined;

  constructor(private readonly state: ProgramState, info: NativeProgramInfo) {
    this.info = info;
  }

  get name(): string {
    return this.info.name;
  }
  /** ELF section, e.g. "tracepoint/sched/sched_process_exec". */
  get section(): string {
    return this.info.section;
  }
  get type(): number {
    return this.info.type;
  }
  get typeName(): string {
    return this.info.typeName;
  }
  get attachType(): number {
    return this.info.attachType;
  }
  /** -1 before load, and for programs set not to load. */
  get fd(): number {
    return this.info.fd;
  }
  /** Kernel program id (as `bpftool prog list` shows it); 0 before load. */
  get id(): number {
    return this.info.id;
  }

  /** Whether load() loads it (and attach() attaches it). Settable before load. */
  get autoload(): boolean {
    return this.info.autoload;
  }
  set autoload(on: boolean) {
    if (typeof on !== 'boolean') throw new TypeError(`${this.name}.autoload: expected boolean, got ${typeof on}`);
    this.configure('autoload', () => this.state.object.setAutoload(this.name, on));
    this.info = { ...this.info, autoload: on };
  }

  /** The kernel function a fentry/fexit/tp_btf/lsm program attaches to, when set here (else its section's). */
  get attachTarget(): string | undefined {
    return this.target;
  }
  set attachTarget(func: string | undefined) {
    if (typeof func !== 'string' || func === '') throw new TypeError(`${this.name}.attachTarget: expected a kernel function name`);
    this.configure('attachTarget', () => this.state.object.setAttachTarget(this.name, func));
    this.target = func;
  }

  /**
   * The target as libbpf's bpf_program__set_attach_target takes it, before load: `func` alone is a
   * kernel function (as `attachTarget`); with `program` (a loaded LbcProgram of another object, or
   * a program fd) it is a function of that BPF program: fentry/fexit on it, or SEC("freplace/FUNC")
   * replacing one of its global functions.
   */
  setAttachTarget(func: string, program?: LbcProgram | number): void {
    if (typeof func !== 'string' || func === '') throw new TypeError(`${this.name}.setAttachTarget: expected a function name`);
    if (program === undefined) {
      this.attachTarget = func;
      return;
    }
    const fd = typeof program === 'number' ? program : program.fd;
    if (!Number.isInteger(fd) || fd < 0) {
      const what = typeof program === 'number' ? `fd ${program}` : `program ${program.name} (not loaded)`;
      throw new TypeError(`${this.name}.setAttachTarget(${JSON.stringify(func)}, …): the target must be a loaded BPF program or its fd, not ${what}`);
    }
    this.configure('attachTarget', () => this.state.object.setAttachTarget(this.name, func, fd));
    this.target = func;
  }

  /**
   * SEC("iter/..."): attaches the iterator; `read()`/`text()` on the link run it and return its
   * output. Options select what iterators with parameters walk (a map, one task, a cgroup).
   */
  attachIter(opts?: attach.IterOptions): attach.IterLink {
    return this.state.keep(attach.attachIter(this.state.use(), this.name, opts));
  }

  /**
   * SEC("socket"): a socket filter on a socket the caller opened (an fd, or a net/dgram socket
   * once bound or connected). The program returns how many bytes of each packet to keep; 0 drops it.
   */
  attachSocket(socket: attach.SocketTarget): NativeLink {
    return this.state.keep(attach.attachSocket(this.state.use(), this.name, socket));
  }

  /**
   * SEC("socket"): a raw packet socket lbc opens on `iface` (name or ifindex) with this filter on
   * it; `onPacket` gets each packet the filter keeps (Ethernet header first). close() stops it.
   */
  openPacketSocket(iface: number | string, onPacket: (packet: Buffer) => void): attach.PacketSocket {
    return this.state.keep(attach.openPacketSocket(this.state.use(), this.name, iface, onPacket));
  }

  /**
   * SEC("tc") / SEC("tcx/ingress|egress") on an interface (name or ifindex): a tcx link where the
   * kernel has tcx, else a filter on the clsact qdisc (`link.mode` says which).
   */
  attachTc(iface: number | string, opts?: attach.TcOptions): attach.TcLink {
    return this.state.keep(attach.attachTc(this.state.use(), this.name, iface, opts));
  }

  /**
   * SEC("usdt"): the USDT probe `provider:name` of `binary` (a path or a library name), in process
   * `pid` (-1: every process running it). The C side reads the probe's arguments with BPF_USDT().
   */
  attachUsdt(pid: number, binary: string, provider: string, name: string): NativeLink {
    return this.state.keep(attach.attachUsdt(this.state.use(), this.name, pid, binary, provider, name));
  }

  /** SEC("lsm/HOOK"); where BPF LSM is not active the error says so (LBC_ERR_LSM_UNAVAILABLE). */
  attachLsm(): NativeLink {
    return this.state.keep(attach.attachLsm(this.state.use(), this.name));
  }

  /** SEC("kprobe.multi"): every kernel function matching the glob `pattern`, in one link. */
  attachKprobeMulti(pattern: string, opts?: attach.MultiProbeOptions): NativeLink {
    return this.state.keep(attach.attachKprobeMulti(this.state.use(), this.name, pattern, opts));
  }

  /** SEC("uprobe.multi"): every function of `binary` matching the glob `pattern` (needs libbpf ≥ 1.3 in the addon, Linux 6.6+). */
  attachUprobeMulti(pid: number, binary: string, pattern: string, opts?: attach.MultiProbeOptions): NativeLink {
    return this.state.keep(attach.attachUprobeMulti(this.state.use(), this.name, pid, binary, pattern, opts));
  }

  /** Facts after load (fd, id). */
  refresh(info: NativeProgramInfo): void {
    this.info = info;
  }

  toJSON(): NativeProgramInfo & { attachTarget?: string } {
    return { ...this.info, ...(this.target ? { attachTarget: this.target } : {}) };
  }

  private configure(what: string, call: () => void): void {
    if (this.state.loaded.value) {
      throw new LbcError('LBC_ERR_ALREADY_LOADED', `${this.state.objectName}: program ${this.name}.${what} can only be set before load`, {
        prog: this.name,
        setting: what,
      });
    }
    try {
      call();
    } catch (err) {
      const native = asNativeError(err);
      throw new LbcError('LBC_ERR_SETUP', `${this.state.objectName}: program ${this.name}.${what}: ${native.message} (${errnoName(native.errno)})`, {
        prog: this.name,
        setting: what,
        errno: native.errno,
      }, { cause: err });
    }
  }
}
