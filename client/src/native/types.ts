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
  /** enum bpf_attach_type value (expected attach type). */
  attachType: number;
  /** Program fd after load, -1 before. */
  fd: number;
}

export interface NativeMapInfo {
  name: string;
  /** enum bpf_map_type value. */
  type: number;
  fd: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BTF type ids in the object's BTF (0 when absent). */
  btfKeyTypeId: number;
  btfValueTypeId: number;
}

export interface NativeLink {
  /** Detaches; idempotent. */
  destroy(): void;
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
  attachUprobe(prog: string, retprobe: boolean, pid: number, binaryPath: string, offset: number): NativeLink;
  attachTracepoint(prog: string, category: string, name: string): NativeLink;
  attachRawTracepoint(prog: string, name: string): NativeLink;
  /** Attaches to an already-open perf event fd (perf_event_open is done by the caller). */
  attachPerfEvent(prog: string, perfFd: number): NativeLink;
  attachXdp(prog: string, ifindex: number): NativeLink;
  attachCgroup(prog: string, cgroupFd: number): NativeLink;
  attachNetns(prog: string, netnsFd: number): NativeLink;
  /** fentry/fexit/tp_btf/lsm: libbpf bpf_program__attach_trace. */
  attachTrace(prog: string): NativeLink;
  /** Closes the object (bpf_object__close): every fd, map and program. Links must be destroyed first. */
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

  /** perf_event_open(2) wrapper; returns the fd. attr fields per the perf_event_attr struct. */
  perfEventOpen(attr: { type: number; config: number; samplePeriod?: number; sampleFreq?: number }, pid: number, cpu: number): number;
  closeFd(fd: number): void;
  /** Number of possible CPUs (libbpf_num_possible_cpus), for per-CPU map values. */
  numPossibleCpus(): number;
}
