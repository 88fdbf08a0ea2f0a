/**
 * One program of an object. Before load it can be turned off (`autoload = false`: not loaded,
 * not attached) or retargeted (`attachTarget`: the kernel function of a fentry/fexit/tp_btf
 * program); after load it carries its fd and kernel id, and attaches: by its section (`attach()`)
 * or to a target the caller names (`attachKprobe(func)`, `attachUprobe(pid, binary, sym)`, ...),
 * as libbpf's bpf_program__attach_* do. Every link is handed to the object, which detaches it on close.
 */
import { LbcError } from '@lbc/contract';
import type { NativeLink, NativeObject, NativeProgramInfo } from '../native/types.ts';
import type { ObjectLifecycle } from '../lifecycle/object-lifecycle.ts';
import { asNativeError, errnoName } from '../attach/native-error.ts';
import * as attach from '../attach/index.ts';

export interface ProgramState {
  object: NativeObject;
  lifecycle: ObjectLifecycle;
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
   * By the section name, as `attach: true` does at start (SEC("tracepoint/sched/sched_process_exec"),
   * SEC("uprobe/libc:malloc"), ...); a failure names the section and its cause (a uprobe section
   * without a binary says how to attach it by hand).
   */
  attach(): NativeLink {
    return this.keep(attach.attachBySection(this.loadedObject(), this.name));
  }

  /** SEC("kprobe") on kernel function `func`; a kernel without kprobes says so and names tracepoint / raw_tp / tp_btf. */
  attachKprobe(func: string): NativeLink {
    return this.keep(attach.attachKprobe(this.loadedObject(), this.name, func));
  }

  attachKretprobe(func: string): NativeLink {
    return this.keep(attach.attachKretprobe(this.loadedObject(), this.name, func));
  }

  /**
   * `binary` may be a path or a library name ("libc"); a symbol is resolved from the ELF, a number
   * is a file offset ("libc:getppid" names both at once). pid -1: every process.
   */
  attachUprobe(pid: number, binary: string, symbolOrOffset?: string | number): NativeLink {
    return this.keep(attach.attachUprobe(this.loadedObject(), this.name, pid, binary, symbolOrOffset));
  }

  attachUretprobe(pid: number, binary: string, symbolOrOffset?: string | number): NativeLink {
    return this.keep(attach.attachUretprobe(this.loadedObject(), this.name, pid, binary, symbolOrOffset));
  }

  attachTracepoint(category: string, name: string): NativeLink {
    return this.keep(attach.attachTracepoint(this.loadedObject(), this.name, category, name));
  }

  attachRawTracepoint(name: string): NativeLink {
    return this.keep(attach.attachRawTracepoint(this.loadedObject(), this.name, name));
  }

  /** fentry / fexit / tp_btf / lsm programs (their target is in the section name, or `attachTarget`). */
  attachTrace(): NativeLink {
    return this.keep(attach.attachTrace(this.loadedObject(), this.name));
  }

  /** `attr` takes perf_event_attr's fields by camelCase name, or pylcc's snake_case dict; `scope` is { pid, cpu }. */
  attachPerfEvent(attr: attach.PerfEventAttr | attach.PylccPerfEventAttr, scope: attach.PerfEventScope = {}): NativeLink {
    return this.keep(attach.attachPerfEvent(this.loadedObject(), this.name, attr, scope));
  }

  /** One perf event per online CPU (pylcc's attach_all_cpu form). */
  attachPerfEventAllCpus(attr: attach.PerfEventAttr | attach.PylccPerfEventAttr, scope: { pid?: number } = {}): NativeLink[] {
    return attach.attachPerfEventAllCpus(this.loadedObject(), this.name, attr, scope).map((link) => this.keep(link));
  }

  /** `iface`: ifindex or interface name. */
  attachXdp(iface: number | string): NativeLink {
    return this.keep(attach.attachXdp(this.loadedObject(), this.name, iface));
  }

  /** `cgroup`: an open fd or a cgroup v2 directory path. */
  attachCgroup(cgroup: number | string): NativeLink {
    return this.keep(attach.attachCgroup(this.loadedObject(), this.name, cgroup));
  }

  /** `netns`: an open fd or a path such as /proc/self/ns/net. */
  attachNetns(netns: number | string): NativeLink {
    return this.keep(attach.attachNetns(this.loadedObject(), this.name, netns));
  }

  /**
   * SEC("iter/..."): attaches the iterator; `read()`/`text()` on the link run it and return its
   * output. Options select what iterators with parameters walk (a map, one task, a cgroup).
   */
  attachIter(opts?: attach.IterOptions): attach.IterLink {
    return this.keep(attach.attachIter(this.loadedObject(), this.name, opts));
  }

  /**
   * SEC("socket"): a socket filter on a socket the caller opened (an fd, or a net/dgram socket
   * once bound or connected). The program returns how many bytes of each packet to keep; 0 drops it.
   */
  attachSocket(socket: attach.SocketTarget): NativeLink {
    return this.keep(attach.attachSocket(this.loadedObject(), this.name, socket));
  }

  /**
   * SEC("socket"): a raw packet socket lbc opens on `iface` (name or ifindex) with this filter on
   * it; `onPacket` gets each packet the filter keeps (Ethernet header first). close() stops it.
   */
  openPacketSocket(iface: number | string, onPacket: (packet: Buffer) => void): attach.PacketSocket {
    return this.keep(attach.openPacketSocket(this.loadedObject(), this.name, iface, onPacket));
  }

  /**
   * SEC("tc") / SEC("tcx/ingress|egress") on an interface (name or ifindex): a tcx link where the
   * kernel has tcx, else a filter on the clsact qdisc (`link.mode` says which).
   */
  attachTc(iface: number | string, opts?: attach.TcOptions): attach.TcLink {
    return this.keep(attach.attachTc(this.loadedObject(), this.name, iface, opts));
  }

  /**
   * SEC("usdt"): the USDT probe `provider:name` of `binary` (a path or a library name), in process
   * `pid` (-1: every process running it). The C side reads the probe's arguments with BPF_USDT().
   */
  attachUsdt(pid: number, binary: string, provider: string, name: string): NativeLink {
    return this.keep(attach.attachUsdt(this.loadedObject(), this.name, pid, binary, provider, name));
  }

  /** SEC("lsm/HOOK"); where BPF LSM is not active the error says so (LBC_ERR_LSM_UNAVAILABLE). */
  attachLsm(): NativeLink {
    return this.keep(attach.attachLsm(this.loadedObject(), this.name));
  }

  /** SEC("kprobe.multi"): every kernel function matching the glob `pattern`, in one link. */
  attachKprobeMulti(pattern: string, opts?: attach.MultiProbeOptions): NativeLink {
    return this.keep(attach.attachKprobeMulti(this.loadedObject(), this.name, pattern, opts));
  }

  /** SEC("uprobe.multi"): every function of `binary` matching the glob `pattern` (needs libbpf ≥ 1.3 in the addon, Linux 6.6+). */
  attachUprobeMulti(pid: number, binary: string, pattern: string, opts?: attach.MultiProbeOptions): NativeLink {
    return this.keep(attach.attachUprobeMulti(this.loadedObject(), this.name, pid, binary, pattern, opts));
  }

  /** Facts after load (fd, id). */
  refresh(info: NativeProgramInfo): void {
    this.info = info;
  }

  toJSON(): NativeProgramInfo & { attachTarget?: string } {
    return { ...this.info, ...(this.target ? { attachTarget: this.target } : {}) };
  }

  /**
   * The loaded object to attach with (LBC_ERR_NOT_LOADED before load, LBC_ERR_CLOSED after close);
   * LBC_ERR_PROGRAM_NOT_LOADED when this program stayed out of the load (libbpf would say EINVAL).
   */
  private loadedObject(): NativeObject {
    this.state.lifecycle.require('loaded', { kind: 'program', name: this.name, op: 'attach' });
    if (!this.info.autoload) {
      throw new LbcError('LBC_ERR_PROGRAM_NOT_LOADED', `${this.state.lifecycle.objectName}: program ${this.name} (SEC("${this.section}")) has no kernel program to attach`, { prog: this.name });
    }
    return this.state.object;
  }

  private keep<T extends NativeLink>(link: T): T {
    return this.state.keep(link);
  }

  private configure(what: string, call: () => void): void {
    this.state.lifecycle.require('setup', { kind: 'program', name: this.name, op: what });
    try {
      call();
    } catch (err) {
      const native = asNativeError(err);
      throw new LbcError('LBC_ERR_SETUP', `${this.state.lifecycle.objectName}: program ${this.name}.${what}: ${native.message} (${errnoName(native.errno)})`, {
        prog: this.name,
        setting: what,
        errno: native.errno,
      }, { cause: err });
    }
  }
}
