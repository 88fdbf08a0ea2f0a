/**
 * What the running kernel can run, probed the way libbpf-tools does before it picks programs and
 * buffers: a no-op fentry/fexit program loaded and attached on the very function (libbpf-tools'
 * fentry_can_attach only loads it; some kernels refuse only the attach), and
 * libbpf_probe_bpf_map_type for ring buffers. Answers are kept for the life of the process.
 */
import type { NativeAddon } from '../native/types.ts';

const BPF_MAP_TYPE_RINGBUF = 27;

export interface KernelFeatures {
  /** Can a fentry/fexit program on kernel function `func` load here? */
  trampoline(func: string, kind: 'fentry' | 'fexit'): boolean;
  /** Can this kernel create BPF_MAP_TYPE_RINGBUF maps? */
  ringbuf(): boolean;
}

const trampolineAnswers = new Map<string, boolean>();
let ringbufAnswer: boolean | undefined;

export function probeKernelFeatures(native: NativeAddon): KernelFeatures {
  return {
    trampoline(func, kind) {
      const key = `${kind}:${func}`;
      let ok = trampolineAnswers.get(key);
      if (ok === undefined) trampolineAnswers.set(key, (ok = native.probeTrampoline(func, kind).ok));
      return ok;
    },
    ringbuf() {
      return (ringbufAnswer ??= native.probeMapType(BPF_MAP_TYPE_RINGBUF));
    },
  };
}
