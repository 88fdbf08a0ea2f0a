/**
 * The JavaScript surface of the native libbpf shim (client/native). It exposes libbpf handles and
 * nothing else: decoding, policy and API shape live in TypeScript. Errors thrown by the addon carry
 * `errno` (positive number) and, for load failures, `log` (the verifier log).
 */

export interface NativeProgramInfo {
  name: string;
  /** ELF section, e.g. "tracepoint/sched/sched_process_exec". */
  section: string;
  /** enum bpf_prog_type value. */
  type: number;
  /** libbpf's name for the type, e.g. "tracepoint", "kprobe", "tracing". */
  typeName: string;
  /** enum bpf_attach_type value (expected attach type). */
  attachType: number;
  /** False when set up not to load (bpf_program__set_autoload); such a program has no fd. */
  autoload: boolean;
  /** Program fd after load, -1 before. */
  fd: number;
  /** Kernel program id after load (as `bpftool prog list` shows it), 0 before. */
  id: number;
}

export interface NativeMapInfo {
  name: string;
  /** enum bpf_map_type value. */
  type: number;
  /** libbpf's name for the type, e.g. "hash", "ringbuf". */
  typeName: string;
  fd: number;
  /** Kernel map id after load, 0 before. */
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BTF type ids in the object's BTF (0 when absent). */
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** BPF_F_* map flags (BPF_F_MMAPABLE 1024: the value can be mapped into the process). */
  mapFlags: number;
  /** A map libbpf made for global variables (.bss, .data, .rodata, custom .data.* / .rodata.*). */
  internal: boolean;
  /** Where the map is (or will be) pinned, when set. */
  pinPath?: string;
  /** libbpf creates the map at load (bpf_map__autocreate); false: left out. */
  autocreate: boolean;
}

/**
 * Links, objects and buffers are not freed when their JS handle is garbage collected (a program
 * silently detaching because a variable went out of scope is worse than a leak until exit): call
 * destroy()/close(). Process exit releases everything; the kernel detaches when the fds close.
 */
export interface NativeLink {
  /** Detaches; idempotent. */
  destroy(): void;
  /** The bpf_link fd, -1 after destroy (or for links libbpf emulates without a kernel link). */
  fd(): number;
}

export interface NativeIterOptions {
  mapFd?: number;
  tid?: number;
  pid?: number;
  pidFd?: number;
  cgroupFd?: number;
  cgroupId?: number;
  /** enum bpf_cgroup_iter_order. */
  order?: number;
}

export interface NativeTcFilter {
  handle: number;
  priority: number;
  /** The clsact qdisc was made for this filter (and goes with it). */
  createdHook: boolean;
}

export interface NativeObject {
  /** Loads every program and map into the kernel. Throws { errno, log } on verifier rejection. */
  load(): void;
  programs(): NativeProgramInfo[];
  maps(): NativeMapInfo[];
  /** Raw .BTF section of the object (for typed decoding), null if the object has none. */
  btf(): Buffer | null;
  /** Attach by section name (libbpf bpf_program__attach). */
  attach(prog: string): NativeLink;
  attachKprobe(prog: string, retprobe: boolean, func: string): NativeLink;
  /**
   * pid -1 = every process. With `funcName`, libbpf resolves the symbol in the binary's ELF and
   * `offset` is added to it; otherwise `offset` is the file offset.
   */
  attachUprobe(prog: string, retprobe: boolean, pid: number, binaryPath: string, offset: number, funcName?: string): NativeLink;
  attachTracepoint(prog: string, category: string, name: string): NativeLink;
  attachRawTracepoint(prog: string, name: string): NativeLink;
  /** Attaches to an already-open perf event fd (perf_event_open is done by the caller). */
  attachPerfEvent(prog: string, perfFd: number): NativeLink;
  attachXdp(prog: string, ifindex: number): NativeLink;
  attachCgroup(prog: string, cgroupFd: number): NativeLink;
  attachNetns(prog: string, netnsFd: number): NativeLink;
  /** fentry/fexit/tp_btf/lsm: libbpf bpf_program__attach_trace. */
  attachTrace(prog: string): NativeLink;
  /** SEC("iter/..."): the iterator's parameters, for the kinds that take them (bpf_map_elem: mapFd; task: tid/pid; cgroup). */
  attachIter(prog: string, opts?: NativeIterOptions): NativeLink;
  /** bpf_program__attach_usdt: pid -1 = every process running `binaryPath`. */
  attachUsdt(prog: string, pid: number, binaryPath: string, provider: string, name: string): NativeLink;
  /** bpf_program__attach_kprobe_multi_opts with a glob pattern. */
  attachKprobeMulti(prog: string, pattern: string, retprobe: boolean): NativeLink;
  /** bpf_program__attach_uprobe_multi (libbpf ≥ 1.3: older builds throw ENOTSUP). */
  attachUprobeMulti(prog: string, pid: number, binaryPath: string, pattern: string, retprobe: boolean): NativeLink;
  /** bpf_map__attach_struct_ops: registers a struct_ops map's ops; destroying the link unregisters them. */
  attachStructOps(map: string): NativeLink;
  /** A tcx link (Linux 6.6+) on the interface; returns the link fd (closing it detaches). */
  attachTcx(prog: string, ifindex: number, egress: boolean): number;
  /** A direct-action filter on the interface's clsact qdisc (created when missing): detachTcHook undoes it. */
  attachTcHook(prog: string, ifindex: number, egress: boolean): NativeTcFilter;
  /*
   * Set-up between open and load. Maps are named by their C name, or by ELF section (".bss",
   * ".data.foo") for the maps of globals. libbpf refuses each once loaded (errno EBUSY).
   */
  setAutoload(prog: string, autoload: boolean): void;
  /**
   * bpf_program__set_attach_target(prog, targetProgFd ?? 0, func): the kernel function a
   * fentry/fexit/tp_btf program traces, or with `targetProgFd` a function of that loaded BPF
   * program (fentry/fexit on a BPF program, freplace).
   */
  setAttachTarget(prog: string, func: string, targetProgFd?: number): void;
  setMapMaxEntries(map: string, maxEntries: number): void;
  setMapValueSize(map: string, valueSize: number): void;
  setMapKeySize(map: string, keySize: number): void;
  /** enum bpf_map_type (bpf_map__set_type). */
  setMapType(map: string, type: number): void;
  /** null: not pinned. At load libbpf reuses a map already pinned there, else creates and pins it. */
  setMapPinPath(map: string, path: string | null): void;
  /** Load uses this existing map (the fd is duplicated) instead of creating one. */
  reuseMapFd(map: string, fd: number): void;
  /** false: the map is not created (programs may only reference it on paths the verifier proves dead). */
  setMapAutocreate(map: string, autocreate: boolean): void;
  /** A copy of the bytes a map of globals is created with (bpf_map__initial_value); null for other maps. */
  mapInitialValue(map: string): Buffer | null;
  /** Replaces those bytes; `bytes` must be exactly the map's value size. */
  setMapInitialValue(map: string, bytes: Buffer): void;
  /**
   * Closes the object (bpf_object__close): every fd, map and program; idempotent. Map fds handed
   * out by maps() are invalid afterwards (and may be reused by the process): keep the object alive
   * while its maps are in use. Destroy links first.
   */
  close(): void;
}

export interface NativeBuffer {
  /** Stops watching the fd and frees the libbpf buffer; idempotent. */
  close(): void;
}

export interface NativeAddon {
  /** Opens an ELF object from memory (bpf_object__open_mem). `btfCustomPath` → btf_custom_path. */
  openObject(elf: Buffer, name: string, opts?: { btfCustomPath?: string }): NativeObject;

  mapLookup(fd: number, key: Buffer, valueSize: number): Buffer | null;
  /** flags: BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2. */
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: number): void;
  /** Returns false when the key was absent. */
  mapDelete(fd: number, key: Buffer): boolean;
  /** Next key after `key` (first key when null); null at the end. */
  mapNextKey(fd: number, key: Buffer | null, keySize: number): Buffer | null;

  /**
   * Watches a BPF_MAP_TYPE_RINGBUF map's fd on the libuv loop (uv_poll on ring_buffer__epoll_fd)
   * and delivers records in batches on the main thread; the event loop never blocks.
   */
  openRingBuffer(mapFd: number, onBatch: (records: Buffer[]) => void): NativeBuffer;
  /** Same for BPF_MAP_TYPE_PERF_EVENT_ARRAY (perf_buffer__new with pageCount pages per CPU). */
  openPerfBuffer(
    mapFd: number,
    pageCount: number,
    onBatch: (records: Buffer[], cpus: number[]) => void,
    onLost: (cpu: number, count: number) => void,
  ): NativeBuffer;
  /**
   * openRingBuffer without a copy per batch or a Buffer per record: each batch arrives in storage
   * the addon reuses for later batches, `count` records back to back in `arena`, record i ending
   * at byte `ends[i]` (a uint32 array). Both are longer than the batch and stay the same objects
   * until a batch outgrows them; they are valid only during the callback (copy what you keep).
   * maps/record-batch.ts wraps them.
   */
  openRingBufferArena(mapFd: number, onBatch: (arena: ArrayBuffer, ends: ArrayBuffer, count: number) => void): NativeBuffer;
  /**
   * A ring buffer read in place, without libbpf and without a copy: `view` is the ring's data area
   * (mapped twice back to back, so every record is contiguous; read-only memory; the same object
   * every batch), the first unread record header is at byte `head` of it and the producer has
   * written `avail` bytes from there. The callback walks the record headers (RecordBatch.resetRing)
   * and returns how many bytes it walked; they go back to the kernel when it returns, so views are
   * valid only during it. A callback that throws gives back every committed record it was handed.
   */
  /**
   * `committedOnly`: the addon finds the committed records (acquire loads) before JS walks them,
   * as it must off x86; the default is on there and off on x86.
   */
  openRingBufferView(mapFd: number, onBatch: (view: ArrayBuffer, head: number, avail: number) => number, opts?: { committedOnly?: boolean }): NativeBuffer;
  /** openPerfBuffer in reused storage, as openRingBufferArena; `cpus` (uint32) gives record i's CPU. */
  openPerfBufferArena(
    mapFd: number,
    pageCount: number,
    onBatch: (arena: ArrayBuffer, ends: ArrayBuffer, cpus: ArrayBuffer, count: number) => void,
    onLost: (cpu: number, count: number) => void,
  ): NativeBuffer;

  /** perf_event_open(2) wrapper; returns the fd. attr fields per the perf_event_attr struct. */
  perfEventOpen(attr: PerfEventAttrFields, pid: number, cpu: number): number;
  closeFd(fd: number): void;
  /** bpf_iter_create on an iterator link, read to EOF: the iterator's output. */
  readIterator(linkFd: number): Buffer;
  /** setsockopt SO_ATTACH_BPF: a socket filter program on a socket. */
  attachSocketFilter(socketFd: number, progFd: number): void;
  /** setsockopt SO_DETACH_BPF. */
  detachSocketFilter(socketFd: number): void;
  /**
   * A raw AF_PACKET socket on interface `ifindex` with socket filter `progFd` attached before it
   * receives anything; packets the filter keeps arrive on the main thread in batches (Ethernet
   * header first; cut to the length the filter returned).
   */
  openPacketSocket(ifindex: number, progFd: number, onPackets: (packets: Buffer[]) => void): NativeBuffer;
  /** bpf_tc_detach of a filter from attachTcHook; with destroyHook, the clsact qdisc too. */
  detachTcHook(ifindex: number, egress: boolean, handle: number, priority: number, destroyHook: boolean): void;
  /** Number of possible CPUs (libbpf_num_possible_cpus), for per-CPU map values. */
  numPossibleCpus(): number;

  /**
   * The value of a loaded BPF_F_MMAPABLE array map (the globals of .bss/.data) mapped into this
   * process: reads and writes are the program's own. The mapping lives as long as the ArrayBuffer.
   */
  mapGlobalData(mapFd: number, byteLength: number, writable: boolean): ArrayBuffer;
  /** Detaches a mapGlobalData buffer: unmapped now rather than when collected. */
  unmapGlobalData(buffer: ArrayBuffer): void;
  /** libbpf_probe_bpf_map_type: can this kernel create maps of this enum bpf_map_type? */
  probeMapType(type: number): boolean;
  probeProgType(type: number): boolean;
  /** Loads a no-op fentry/fexit program on kernel function `func`: what libbpf-tools' fentry_can_attach asks. */
  probeTrampoline(func: string, kind?: 'fentry' | 'fexit'): { ok: boolean; errno: number; reason?: string };

  /** Every link loaded in the kernel (BPF_LINK_GET_NEXT_ID walk) with its target, for `lbc inspect`. */
  listLinks(): KernelLinkInfo[];
  /** The ids of every loaded object of a kind (the *_GET_NEXT_ID walk). */
  objectIds(kind: 'prog' | 'map' | 'link' | 'btf'): number[];
  /** One program's info record; throws errno ENOENT for an id nothing has. */
  programInfo(id: number): KernelProgramDetail;
  mapInfo(id: number): KernelMapDetail;
  linkInfo(id: number): KernelLinkInfo;
  /** A BTF object's info; `withData`: its raw BTF too. */
  btfInfo(id: number, withData?: boolean): KernelBtfInfo;
  /** An fd for the map with this id, for mapLookup/mapNextKey; close it with closeFd. */
  mapFdById(id: number): number;
  /** bpf_obj_get(path): an fd for a pinned object (close it with closeFd). */
  objGet(path: string): number;
  /** bpf_enable_stats(BPF_STATS_RUN_TIME): run counts and times are kept while the fd is open (closeFd). */
  enableRunTimeStats(): number;
}

/**
 * bpf_prog_info as the running kernel fills it. Fields a kernel does not have are absent
 * (`infoLen`: how many bytes of the record it filled): verifiedInsns and attachBtf* since 5.16.
 */
export interface KernelProgramDetail {
  infoLen: number;
  id: number;
  type: number;
  typeName: string;
  /** Truncated by the kernel to 15 characters. */
  name: string;
  tag: string;
  jitedLen: number;
  xlatedLen: number;
  loadTimeNs: bigint;
  uid: number;
  gplCompatible: boolean;
  btfId?: number;
  runCount?: bigint;
  runTimeNs?: bigint;
  recursionMisses?: bigint;
  verifiedInsns?: number;
  /** For tracing/EXT/LSM programs: the BTF object (vmlinux, a module, a program's) and type id of the target. */
  attachBtfObjId?: number;
  attachBtfId?: number;
  mapIds: number[];
  /** One record per function, the program's own first: its type id in the program's BTF (a FUNC). */
  funcInfo: Array<{ insnOff: number; typeId: number }>;
}

export interface KernelMapDetail {
  infoLen: number;
  id: number;
  type: number;
  typeName: string;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
}

export interface KernelBtfInfo {
  infoLen: number;
  id: number;
  /** Bytes of raw BTF. */
  size: number;
  /** "vmlinux", a module's name, or "" for a program's BTF (since 5.11). */
  name?: string;
  kernelBtf?: boolean;
  data?: Buffer;
}

export interface KernelLinkInfo {
  id: number;
  type: number;
  /** e.g. "raw_tracepoint", "tracing", "perf_event", "cgroup", "xdp", "netns". */
  typeName: string;
  progId: number;
  /** e.g. "uprobe", "tracepoint", "trace_fentry", "cgroup_inet_ingress", where the kernel tells it. */
  attachType?: string;
  /** What it is attached to, where the kernel tells it: tracepoint name, "/path+0xoff", "ifindex 2"... */
  target?: string;
  targetBtfId?: number;
  targetObjId?: number;
}

/** perf_event_attr as the addon reads it (camelCase; see client/src/attach/perf-events.ts for each field). */
export interface PerfEventAttrFields {
  type: number;
  config?: number | bigint;
  samplePeriod?: number | bigint;
  sampleFreq?: number | bigint;
  /** PERF_SAMPLE_* bits. */
  sampleType?: number | bigint;
  wakeupEvents?: number;
  /** Start disabled; attaching enables it. */
  disabled?: boolean;
  /** Count in the children the process forks from now on too. */
  inherit?: boolean;
  excludeUser?: boolean;
  excludeKernel?: boolean;
  excludeHv?: boolean;
  excludeIdle?: boolean;
  excludeHost?: boolean;
  excludeGuest?: boolean;
  excludeCallchainKernel?: boolean;
  excludeCallchainUser?: boolean;
  /** Skid constraint, 0-3. */
  preciseIp?: number;
  /** PERF_TYPE_BREAKPOINT: HW_BREAKPOINT_R 1, W 2, RW 3, X 4. */
  bpType?: number;
  /** PERF_TYPE_BREAKPOINT: the watched address. */
  bpAddr?: number | bigint;
  /** PERF_TYPE_BREAKPOINT: 1, 2, 4 or 8 bytes (X: sizeof(long)). */
  bpLen?: number | bigint;
  config1?: number | bigint;
  config2?: number | bigint;
}
