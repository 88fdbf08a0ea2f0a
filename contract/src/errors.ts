/**
 * The one error catalogue of lbc. The API, the worker, the CLI and the client all throw and print
 * these codes, so a user can grep a code from any output and land here (and in docs/errors.md).
 */
import type { Static } from '@sinclair/typebox';
import type { ErrorBodySchema } from './error-schema.ts';

export interface ErrorSpec {
  /** HTTP status when the error crosses the API. Client-only errors use 0. */
  status: number;
  /** One line: what went wrong. */
  message: string;
  /** One line: what to do about it. */
  hint: string;
}

export const ERRORS = {
  LBC_ERR_BAD_REQUEST: { status: 400, message: 'The request is malformed', hint: 'Check the request (its body, query string and path parameters) against the OpenAPI schema served at /docs.' },
  LBC_ERR_CFLAG_FORBIDDEN: { status: 400, message: 'A compiler flag is not allowed', hint: 'Only -DNAME[=VALUE] and -UNAME may be passed; everything else is fixed by the service.' },
  LBC_ERR_INCLUDE_FORBIDDEN: { status: 400, message: 'An #include names a path outside the program', hint: 'Include only your own files by relative path (sent in "includes") and system headers such as <bpf/bpf_helpers.h>.' },
  LBC_ERR_INCLUDE_NAME_INVALID: { status: 400, message: 'Invalid include name', hint: 'Name each include by a relative path of plain segments (letters, digits, . _ + -) joined by single "/", at most 255 bytes a segment, 1024 bytes and 16 levels in all, and never both a file and a directory (x.h and x.h/y.h).' },
  LBC_ERR_SOURCE_FORBIDDEN: { status: 400, message: 'The source uses a construct the service refuses', hint: 'Remove the construct named in the error (for example .incbin); BPF programs do not need it.' },
  LBC_ERR_BODY_TOO_LARGE: { status: 413, message: 'The request body is too large', hint: 'Make the part named smaller (a program: drop what it does not use; a local vmlinux.h is never sent, the kernel\'s comes from the service; an upload: send it gzip-compressed), or ask the operator to raise that limit (GET /v1/limits lists them).' },
  LBC_ERR_COMPILE: { status: 422, message: 'The program does not compile', hint: 'Fix the diagnostics shown (file:line:column refer to your own files).' },
  LBC_ERR_COMPILE_LIMIT: { status: 422, message: 'The compile exceeded a resource limit', hint: 'The program took too long, used too much memory, or produced too large an object; simplify it.' },
  LBC_ERR_KERNEL_UNKNOWN: { status: 404, message: 'The service knows no kernel set for this target', hint: 'Upload this kernel\'s BTF with PUT /v1/kernels/<sha256> (the client does it automatically), or pick one of the suggested kernels.' },
  LBC_ERR_BTF_INVALID: { status: 400, message: 'The uploaded file is not valid BTF', hint: 'Upload the raw contents of /sys/kernel/btf/vmlinux (optionally gzip-compressed).' },
  LBC_ERR_BTF_HASH_MISMATCH: { status: 400, message: 'The uploaded BTF does not match the sha256 in the URL', hint: 'Compute sha256 over the uncompressed BTF bytes.' },
  LBC_ERR_BTF_CHECK_LIMIT: { status: 400, message: 'Checking the uploaded BTF took more memory or time than the service allows', hint: 'A kernel\'s BTF parses in well under a second and a few hundred MB: upload /sys/kernel/btf/vmlinux as it is (optionally gzip-compressed), not a file built to be costly.' },
  LBC_ERR_KERNEL_SET_FAILED: { status: 422, message: "The kernel's BTF could not be made into a header to compile against", hint: 'bpftool failed on this BTF or used up its CPU or time limit (a type loop or damaged records); the failure is remembered for this kernel. Upload the kernel\'s real /sys/kernel/btf/vmlinux, or ingest its package.' },
  LBC_ERR_JOB_NOT_FOUND: { status: 404, message: 'No such job', hint: 'Jobs are kept for a limited time after they finish; submit the compile again.' },
  LBC_ERR_ARTIFACT_NOT_FOUND: { status: 404, message: 'No such artifact', hint: 'Artifacts may be evicted from the cache; submit the compile again.' },
  LBC_ERR_QUEUE_UNAVAILABLE: { status: 503, message: 'The job queue (Redis) is unreachable', hint: 'Check that Redis at REDIS_URL is running; the service retries by itself once it is back.' },
  LBC_ERR_QUEUE_FULL: { status: 503, message: 'Too many compiles are waiting', hint: 'Retry later, or add workers pointed at the same Redis.' },
  LBC_ERR_SANDBOX_UNAVAILABLE: { status: 503, message: 'No worker can run compiles right now', hint: 'Every worker reports its Docker engine unreachable (or a different compile image); check DOCKER_HOST and the engine on the worker hosts. Compiles resume by themselves when it is back.' },
  LBC_ERR_SANDBOX: { status: 500, message: 'The compile sandbox failed', hint: 'Check that the Docker engine is running and the compile image exists (npm start builds it).' },
  LBC_ERR_INTERNAL: { status: 500, message: 'Internal error', hint: 'This is a bug in lbc; the service log has details under the request id.' },
  LBC_ERR_NOT_FOUND: { status: 404, message: 'Route not found', hint: 'See /docs for the API.' },
  LBC_ERR_KERNEL_AMBIGUOUS: { status: 400, message: 'The kernel named matches more than one kernel', hint: 'Give the arch (--arch) of a release known for several, or the full BTF sha256 (or a longer prefix) of one of the candidates listed; lbc kernels lists them.' },
  LBC_ERR_STRUCT_NOT_FOUND: { status: 404, message: 'The kernel has no struct or union of that name', hint: 'Check the spelling against the suggestions; a name from another kernel version may be gone or renamed.' },
  LBC_ERR_FUNC_NOT_FOUND: { status: 404, message: 'The kernel has no function of that name in its BTF', hint: 'Check the spelling against the suggestions; inlined functions have no BTF record (search with lbc func \'name%\').' },
  LBC_ERR_TYPE_NOT_FOUND: { status: 404, message: 'The kernel has no type of that name', hint: 'Check the spelling against the suggestions; write struct/union/enum tags as "struct name".' },
  LBC_ERR_CATALOG_BUILDING: { status: 503, message: "The kernel's catalog is still being built", hint: 'Retry in a few seconds: the first query of a kernel indexes its BTF once.' },
  LBC_ERR_CATALOG_FAILED: { status: 500, message: "The kernel's catalog could not be built", hint: "Upload the kernel's BTF again (PUT /v1/kernels/<sha256>); the service log has the indexer's error." },
  // Kernel package ingestion (POST /v1/kernels/ingest, lbc-admin ingest).
  LBC_ERR_INGEST_FORBIDDEN: { status: 403, message: 'Kernel package ingestion is an admin operation', hint: 'Run lbc-admin on the service host (loopback), or start the service with LBC_INGEST_FROM=any behind your own access control.' },
  LBC_ERR_INGEST_FORMAT: { status: 422, message: 'The file is not a kernel package lbc can ingest', hint: 'Pass a kernel image or debuginfo RPM, a kernel image, -dbg or ddeb DEB, a BTFHub <release>.btf.tar.xz, raw BTF or an ELF vmlinux.' },
  LBC_ERR_INGEST_CORRUPT: { status: 422, message: 'The kernel package is damaged or truncated', hint: 'Download the package again and check its checksum against the distribution\'s.' },
  LBC_ERR_INGEST_TOO_LARGE: { status: 413, message: 'The kernel package is too large', hint: 'The package (or a size its headers claim) exceeds LBC_INGEST_MAX_BYTES / LBC_INGEST_MAX_UNPACKED_BYTES; raise them if the package is genuine.' },
  LBC_ERR_INGEST_NO_VMLINUX: { status: 422, message: 'The package contains no kernel image', hint: 'Ingest the package that ships vmlinux or vmlinuz (linux-image-*, kernel-core, kernel-debuginfo, *-dbg, *-dbgsym).' },
  LBC_ERR_INGEST_NO_BTF: { status: 422, message: 'The kernel image carries neither BTF nor DWARF', hint: 'Ingest the kernel\'s debuginfo / -dbg package: lbc builds BTF from its DWARF with pahole.' },
  LBC_ERR_INGEST_NO_TYPES: { status: 422, message: 'The kernel\'s DWARF has no type information', hint: 'The vmlinux was built with reduced debug info (-g1); use the full debuginfo package.' },
  LBC_ERR_INGEST_METADATA: { status: 422, message: 'The kernel\'s release, arch or distro could not be determined or contradict each other', hint: 'Check the file name matches the package; for raw BTF and BTFHub files pass release, arch and distro explicitly.' },
  LBC_ERR_INGEST_PACKAGE_NOT_FOUND: { status: 404, message: 'This API node holds no spooled kernel package with that sha256', hint: 'The package was ingested (and removed) already, its ingestion failed, or another API node received it; submit the package again.' },
  LBC_ERR_KERNEL_NOT_BOOTABLE: { status: 422, message: 'The kernel set has no boot image, so lbc verify cannot boot it', hint: 'Make it bootable by ingesting its kernel image package (lbc-admin ingest linux-image-<release>_<version>_<arch>.deb, or a kernel RPM with a vmlinuz): uploaded BTF, -dbg and debuginfo packages bring no image. lbc kernels shows the bootable kernels (BOOT), and the error lists them.' },
  LBC_ERR_BOOT_IMAGE_NOT_FOUND: { status: 404, message: 'No node of the farm (nor its S3 store) holds the boot image with that sha256', hint: 'Only kernels ingested from a kernel image package (linux-image-*.deb, a kernel RPM with a vmlinuz, an arm64 Image) are bootable; lbc kernels shows them (BOOT). The API nodes that registered the kernel keep its image: if every copy was lost, ingest the package again.' },
  LBC_ERR_INGEST_PACKAGE_UNAVAILABLE: { status: 503, message: 'The worker could not obtain the uploaded kernel package', hint: 'Workers fetch a package by hash from the API node that received it (LBC_ADVERTISE_URL, else its listen address) or from the S3 store (LBC_BLOB_S3_*): make that node reachable from the worker hosts and keep it up until the ingestion ends, or submit the package again.' },
  LBC_ERR_AUTH_REQUIRED: { status: 401, message: 'A token is required', hint: 'Send Authorization: Bearer <token> (client: LBC_TOKEN or the token option); an operator creates tokens with lbc-admin token create --tenant NAME.' },
  LBC_ERR_AUTH_INVALID: { status: 401, message: 'The token is not valid', hint: 'The token is unknown or was revoked; ask an operator for a new one (lbc-admin token create).' },
  LBC_ERR_FORBIDDEN: { status: 403, message: 'This needs an admin token', hint: 'Kernel registration, ingestion, token management, /metrics and the dashboard take a token created with lbc-admin token create --admin.' },
  LBC_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests from this tenant', hint: 'Wait for the Retry-After seconds; the per-tenant limit is LBC_RATE_LIMIT_PER_MINUTE.' },
  LBC_ERR_TENANT_QUEUE_FULL: { status: 429, message: 'This tenant has too many compiles queued', hint: 'Wait for the Retry-After seconds (your queued compiles finish first); the bound is LBC_MAX_QUEUED_JOBS_PER_TENANT.' },
  LBC_ERR_BODY_TIMEOUT: { status: 408, message: 'The request body did not arrive in time', hint: 'The whole request must arrive within LBC_BODY_TIMEOUT_MS of its first byte; the connection was closed. Send the body at once, or ask the operator to raise the deadline for slow links.' },
  LBC_ERR_HEADERS_TIMEOUT: { status: 408, message: 'The request headers did not arrive in time', hint: 'Headers must arrive within LBC_HEADERS_TIMEOUT_MS; the connection was closed.' },
  LBC_ERR_TOO_MANY_CONNECTIONS: { status: 429, message: 'This client address has too many open connections', hint: 'Close idle connections or reuse them (keep-alive); the cap per address is LBC_MAX_CONNECTIONS_PER_CLIENT.' },
  LBC_ERR_TOKEN_NOT_FOUND: { status: 404, message: 'No such token', hint: 'List tokens with lbc-admin token list (or GET /v1/tokens) and use an id from there.' },
  // The kernel lab: real kernels booted under QEMU (services/core/src/lab).
  LBC_ERR_LAB_NOT_SET_UP: { status: 503, message: 'The kernel lab is not set up on this host', hint: 'Run scripts/lab-setup.sh (as root; scripts/setup.sh runs it): it installs QEMU and busybox-static and downloads the lab kernels into LBC_LAB_DIR.' },
  LBC_ERR_GUEST_FAILED: { status: 500, message: 'The lab guest did not boot or did not finish', hint: 'The console\'s last lines are in the error: a kernel panic, an init that exited, or QEMU refusing its arguments.' },
  LBC_ERR_GUEST_TIMEOUT: { status: 504, message: 'The lab guest did not finish within its wall time limit', hint: 'A program may hang the guest, or the host is overloaded; the console\'s last lines are in the error.' },
  // Client-side (status 0: never sent by the service).
  LBC_ERR_SERVER_UNREACHABLE: { status: 0, message: 'The lbc service cannot be reached', hint: 'Start it (npm start), set LBC_SERVER, or compile once while online so the object is cached.' },
  LBC_ERR_SERVER_TLS: { status: 0, message: 'The service\'s TLS certificate is not trusted', hint: 'If the service uses a private CA, point NODE_EXTRA_CA_CERTS at its PEM file; otherwise check the server name in LBC_SERVER matches its certificate.' },
  LBC_ERR_CA_CERTS: { status: 0, message: 'The extra CA certificates file cannot be read', hint: 'Point NODE_EXTRA_CA_CERTS (the lbc launcher passes it on as LBC_EXTRA_CA_CERTS) at a readable PEM file, or unset it.' },
  LBC_ERR_RESPONSE_TOO_LARGE: { status: 0, message: 'The service sent a larger response than the client accepts', hint: 'Objects and BTF are bounded by the service\'s own limits (GET /v1/limits); a larger answer is not from an lbc service, or LBC_SERVER points at the wrong host.' },
  LBC_ERR_ARTIFACT_INTEGRITY: { status: 0, message: 'A compile result or object from the service failed its integrity check', hint: 'Every object must come with its sha256 and match it; nothing was cached. Check LBC_SERVER points at an lbc service and retry; a proxy that alters responses causes this too.' },
  LBC_ERR_OBJECT_BTF_INVALID: { status: 0, message: 'The object\'s BTF (.BTF section) cannot be read', hint: 'The object did not come from an lbc compile (or was altered): compile it again; the reason is in the message.' },
  LBC_ERR_SOURCE_NOT_FOUND: { status: 0, message: 'No BPF source was given and none was found', hint: 'Pass the source text, or put NAME.bpf.c in the working directory.' },
  LBC_ERR_KERNEL_DETECT: { status: 0, message: 'The running kernel could not be identified', hint: 'Pass target { release, arch } explicitly.' },
  LBC_ERR_KERNEL_BTF_UNREADABLE: { status: 0, message: "This machine's kernel BTF cannot be read", hint: 'lbc struct/func/type identify this kernel by its BTF (/sys/kernel/btf/vmlinux, or the file LBC_KERNEL_BTF names): check the path exists and is readable, or pass --kernel with a kernel the service knows (lbc kernels).' },
  LBC_ERR_NATIVE: { status: 0, message: 'The native libbpf shim is not available', hint: 'Install what the message names: the prebuilt addon (linux-x64, linux-arm64) needs glibc >= 2.28, libelf1 and zlib1g; elsewhere the message says how to build it from source.' },
  LBC_ERR_LOAD: { status: 0, message: 'The kernel refused to load the program', hint: 'Read the verifier log tail in the error; run as root (CAP_BPF + CAP_PERFMON).' },
  LBC_ERR_MAP_CREATE: { status: 0, message: 'The kernel refused to create a map', hint: 'The error names the map, its type and sizes and the likely cause: a size left 0 for user space to set (set lbc.maps.NAME.maxEntries before load, with { load: false }), sizes beyond what the kernel allows for the type, memory limits, or a map type this kernel lacks.' },
  LBC_ERR_KERNEL_FUNCTION_MISSING: { status: 0, message: 'The kernel function the program attaches to is not in this kernel', hint: 'fentry/fexit/fmod_ret targets must be in the running kernel\'s BTF: check the name with `lbc func NAME`, set lbc.programs.NAME.attachTarget to one this kernel has, or give the program a kprobe/tracepoint twin.' },
  LBC_ERR_ATTACH: { status: 0, message: 'Attaching the program failed', hint: 'Check the attach target (function, tracepoint, binary, pid) exists.' },
  LBC_ERR_ATTACH_UNSUPPORTED: { status: 0, message: 'This kernel cannot attach this program type', hint: 'Use a tracepoint, raw_tp or tp_btf program instead.' },
  LBC_ERR_PROGRAM_KIND: { status: 0, message: 'This program does not attach that way', hint: 'Each program kind has its own attach method (iter → attachIter, socket → attachSocket, tc/tcx → attachTc, usdt → attachUsdt, uprobe.multi/kprobe.multi → attachUprobeMulti/attachKprobeMulti): the error names the program\'s section and the method to use.' },
  LBC_ERR_ATTACH_TARGET: { status: 0, message: 'The attach target given is not usable', hint: 'The message names what the attach method takes (an open socket, an interface name or index, a binary path); pass that.' },
  LBC_ERR_ITER_READ: { status: 0, message: 'Reading the BPF iterator failed', hint: 'The iterator program failed while running (the errno says how); the link stays attached: fix the program or its parameters and read again.' },
  LBC_ERR_LSM_UNAVAILABLE: { status: 0, message: 'This kernel does not run BPF LSM programs', hint: 'BPF LSM needs CONFIG_BPF_LSM and "bpf" in the active LSM list (boot with lsm=...,bpf; see /sys/kernel/security/lsm); use a tracepoint or tp_btf program to observe instead.' },
  LBC_ERR_PROGRAM_NOT_LOADED: { status: 0, message: 'The program was not loaded: its autoload was turned off before load', hint: 'Set lbc.programs.NAME.autoload = true before load (new Lbc(..., { load: false })), or attach the program that was loaded instead; a fentry/kprobe twin turned off for this kernel is listed in lbc.fallbacks.' },
  LBC_ERR_PROGRAM_NOT_FOUND: { status: 0, message: 'No program of that name in the object', hint: 'Use the C function name of the program.' },
  LBC_ERR_MAP_NOT_FOUND: { status: 0, message: 'No map of that name in the object', hint: 'Use the name given to the map in C.' },
  LBC_ERR_MAP_OP: { status: 0, message: 'A map operation failed', hint: 'See the errno in the message.' },
  LBC_ERR_CLOSED: { status: 0, message: 'The object was closed', hint: 'Create a new Lbc instance.' },
  LBC_ERR_NOT_READY: { status: 0, message: 'The object is not ready yet: it is still being compiled, fetched or loaded', hint: 'await lbc.ready before using maps, programs or globals (with { load: false }: await lbc.ready, set up, then await lbc.load()).' },
  LBC_ERR_ELF_INVALID: { status: 0, message: 'The file is not a readable ELF64 object', hint: 'Pass a 64-bit ELF binary, shared library or BPF object.' },
  LBC_ERR_SYMBOL_NOT_FOUND: { status: 0, message: 'The symbol is not defined in the binary', hint: 'Check the name with nm -D (shared libraries) or nm; stripped binaries need an offset instead.' },
  LBC_ERR_LIBRARY_NOT_FOUND: { status: 0, message: 'The shared library was not found', hint: 'Pass a full path, or a name listed by ldconfig -p (e.g. libc or libc.so.6).' },
  LBC_ERR_NOT_LOADED: { status: 0, message: 'The object is opened but not loaded yet', hint: 'It was created with { load: false }: set it up, then await lbc.load() (and lbc.attach()).' },
  LBC_ERR_ALREADY_LOADED: { status: 0, message: 'This set-up applies before load only, and the object is loaded', hint: 'Create the Lbc with { load: false } and change programs, maps and constants before await lbc.load().' },
  LBC_ERR_GLOBAL_NOT_FOUND: { status: 0, message: 'No global variable of that name in the section', hint: 'Use a variable declared at file scope in the BPF source; the error lists the section\'s variables and their types.' },
  LBC_ERR_GLOBAL_VALUE: { status: 0, message: 'The value does not fit the global variable\'s C type', hint: 'Pass a value of the type named in the error (an integer within its range, a string for char arrays); nothing was written.' },
  LBC_ERR_GLOBAL_READ_ONLY: { status: 0, message: 'Constants (.rodata) are frozen once the object is loaded', hint: 'Set const volatile globals between new Lbc(..., { load: false }) and lbc.load(), or make the variable non-const (.bss/.data) to change it at run time.' },
  LBC_ERR_SETUP: { status: 0, message: 'libbpf refused a set-up of the opened object', hint: 'See the libbpf call and errno in the message (for example an attach target that is not a kernel function).' },
  LBC_ERR_INSPECT_NOT_FOUND: { status: 0, message: 'No BPF object of that kind has that id in the kernel', hint: 'List what is loaded with lbc inspect progs, maps or links; an object is gone once its last fd, pin and link are.' },
  LBC_ERR_INSPECT_PERMISSION: { status: 0, message: 'The kernel refuses to show its BPF objects to this process', hint: 'Run as root, or give the process CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN before Linux 5.8); --stats needs them too.' },
  LBC_ERR_INSPECT_DUMP_UNSUPPORTED: { status: 0, message: 'This kind of map has no entries to dump by key', hint: 'Dump hash, array, LRU, per-CPU and LPM maps; read ring and perf buffers with lbc run or openRingBuffer()/openPerfBuffer() in the program that owns them.' },
  LBC_ERR_TRACE_SYNTAX: { status: 0, message: 'A trace expression is malformed', hint: "Write PROBE [NAME=EXPR ...] [f:FILTER], e.g. 'p do_filp_open dfd=%0' or 'e sched/sched_process_exec f:pid>1'; the caret marks where it went wrong." },
  LBC_ERR_TRACE_UNKNOWN: { status: 0, message: 'A trace expression names something that does not exist', hint: "Check the spelling against the suggestion; kernel types and functions come from the kernel's BTF, a binary's from its debug info (gcc -g)." },
  LBC_ERR_TRACE_TYPE: { status: 0, message: 'A trace expression does not fit the type it reads', hint: 'Use -> on pointers and . on structs, end on a number, pointer, char array or char *, or cast the base with !(type).' },
  LBC_ERR_TRACE_UNSUPPORTED: { status: 0, message: 'This kernel cannot create this kind of trace probe', hint: 'p/r need kprobe_events (CONFIG_KPROBE_EVENTS): trace an e CATEGORY/EVENT tracepoint or a P/R uprobe instead, or print the commands for another kernel with -S.' },
  LBC_ERR_GRAPH_UNSUPPORTED: { status: 0, message: 'lbc graph cannot run its engine on this kernel', hint: 'lbc graph needs the function_graph tracer (CONFIG_FUNCTION_GRAPH_TRACER, listed in tracing/available_tracers) or BPF trampolines for fentry/fexit (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS, x86_64 since 5.5, arm64 since 6.5): run it on such a kernel, e.g. a Debian cloud kernel.' },
  LBC_ERR_GRAPH_BUSY: { status: 0, message: "The kernel's top-level function tracer is in use", hint: 'On kernels whose tracing instances lack set_graph_function, lbc graph uses the top-level tracer: stop the other user (current_tracer back to nop, or the other lbc graph, named in the message), or use --engine bpf.' },
  LBC_ERR_TRACEFS: { status: 0, message: 'tracefs is not available or refused a write', hint: "Run as root with tracefs mounted (mount -t tracefs nodev /sys/kernel/tracing); the kernel's reason, from tracing/error_log, is in the message." },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The JSON body of every error the API sends (the type of its JSON schema in error-schema.ts). */
export type ErrorBody = Static<typeof ErrorBodySchema>;

export class LbcError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly hint: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, detail?: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    const spec = ERRORS[code];
    super(detail ? `${spec.message}: ${detail}` : spec.message, options);
    this.name = 'LbcError';
    this.code = code;
    this.status = spec.status;
    this.hint = spec.hint;
    if (details) this.details = details;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, hint: this.hint, ...(this.details ? { details: this.details } : {}) } };
  }

  /** Rebuilds an error received from the API. */
  static fromBody(body: ErrorBody): LbcError {
    const code = (body.error.code in ERRORS ? body.error.code : 'LBC_ERR_INTERNAL') as ErrorCode;
    const err = new LbcError(code, undefined, body.error.details);
    err.message = body.error.message;
    return err;
  }

  /** "LBC_ERR_X: message\n  fix: hint" — how the CLI and logs print it. */
  format(): string {
    return `${this.code}: ${this.message}\n  fix: ${this.hint}`;
  }
}

export function isLbcError(err: unknown, code?: ErrorCode): err is LbcError {
  return err instanceof LbcError && (code === undefined || err.code === code);
}
