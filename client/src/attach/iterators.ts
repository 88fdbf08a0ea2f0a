/**
 * BPF iterators (SEC("iter/task"), iter/bpf_map_elem, iter/tcp ...): attaching makes a link, and
 * every read of the link creates a fresh iterator (bpf_iter_create) and reads it to EOF — what
 * `cat` of a pinned iterator does. The output is whatever the program wrote with BPF_SEQ_PRINTF
 * or bpf_seq_write.
 */
import { LbcError } from '@lbc/contract';
import type { NativeIterOptions, NativeLink, NativeObject } from '../native/types.ts';
import { loadNative } from '../native/index.ts';
import { translateAttach } from './attach-errors.ts';
import { asNativeError, errnoName } from './native-error.ts';
import { requireProgram } from './program-lookup.ts';
import { requireKind } from './program-kind.ts';

export const ITER_SECTION = /^iter(\.s)?\//;

export interface IterOptions {
  /** iter/bpf_map_elem, iter/bpf_sk_storage_map ...: the map to walk (an LbcMap or a map fd). */
  map?: number | { fd: number };
  /** iter/task, iter/task_file, iter/task_vma: one thread, or one process (Linux 6.1+). */
  tid?: number;
  pid?: number;
  /** iter/cgroup: the cgroup to start from (an open fd), and the walk order (enum bpf_cgroup_iter_order). */
  cgroupFd?: number;
  order?: number;
}

export interface IterLink extends NativeLink {
  /** Runs the iterator once and returns everything it wrote. */
  read(): Buffer;
  /** read() as UTF-8 text. */
  text(): string;
}

export function attachIter(object: NativeObject, prog: string, opts: IterOptions = {}): IterLink {
  const info = requireProgram(object, prog);
  requireKind(info, ITER_SECTION, 'attachIter()', 'BPF iterator');
  const target = { prog, kind: 'iter' as const, target: `SEC("${info.section}")` };
  const link = translateAttach(target, () => object.attachIter(prog, nativeOptions(opts)));
  return iterLink(link, prog);
}

/** Adds read()/text() to a link of an iterator program (also one auto-attached by section). */
export function iterLink(link: NativeLink, prog: string): IterLink {
  const read = () => readIterator(link, prog);
  return Object.assign(link, { read, text: () => read().toString('utf8') });
}

function readIterator(link: NativeLink, prog: string): Buffer {
  const fd = link.fd();
  if (fd < 0) throw new LbcError('LBC_ERR_ITER_READ', `${prog}: the iterator link is detached (destroy() was called or the object closed)`, { prog });
  try {
    return loadNative().readIterator(fd);
  } catch (err) {
    const native = asNativeError(err);
    throw new LbcError('LBC_ERR_ITER_READ', `${prog}: ${native.message} (${errnoName(native.errno)})`, { prog, errno: native.errno }, { cause: err });
  }
}

function nativeOptions(opts: IterOptions): NativeIterOptions | undefined {
  const out: NativeIterOptions = {};
  if (opts.map !== undefined) out.mapFd = typeof opts.map === 'number' ? opts.map : opts.map.fd;
  if (opts.tid !== undefined) out.tid = opts.tid;
  if (opts.pid !== undefined) out.pid = opts.pid;
  if (opts.cgroupFd !== undefined) out.cgroupFd = opts.cgroupFd;
  if (opts.order !== undefined) out.order = opts.order;
  return Object.keys(out).length ? out : undefined;
}
