/*
 * lbc.h: conveniences for BPF programs compiled by the lbc service (pylcc's lbc.h, for modern
 * libbpf). Include it instead of vmlinux.h and the libbpf headers:
 *
 *   #include "lbc.h"
 *   struct event { u32 pid; char comm[16]; };
 *   LBC_RINGBUF(events, struct event, 1 << 16);
 *   LBC_HASH(counts, u32, u64, 1024);
 *
 * Maps are BTF-defined (SEC(".maps")): libbpf >= 1.0 refuses the old bpf_map_def form. Every
 * name pylcc's lbc.h gives a program is here too (LBC_* maps in pylcc's and lbc's argument forms,
 * LBC_HIST2/LBC_HIST10 with hist2_push/hist10_push, the stack id flags, _(), ntoh*, lbc_debug), so
 * pylcc programs compile unchanged. A source that includes neither this header nor vmlinux.h nor
 * any <...> header gets it implicitly, as pylcc's compiler gave it.
 */
#ifndef __LBC_H__
#define __LBC_H__

/* Part of every cache key through the header's sha256; bump on any change that alters objects. */
#define LBC_H_VERSION 2

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

/* Repeating a typedef with the same type is valid C11; kernels whose BTF lacks them still get them. */
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

/*
 * _(P->field): reads kernel memory by value, as pylcc's _() did. The access is recorded as a CO-RE
 * relocation, so the object stays correct on kernels whose struct layouts differ.
 */
#define _(P)                                                                                      \
  ({                                                                                              \
    typeof(P) __lbc_val;                                                                          \
    __builtin_memset(&__lbc_val, 0, sizeof(__lbc_val));                                           \
    bpf_probe_read_kernel(&__lbc_val, sizeof(__lbc_val),                                          \
                          (const void *)__builtin_preserve_access_index(&(P)));                   \
    __lbc_val;                                                                                    \
  })

/* pylcc's flags for bpf_get_stackid(): BPF_F_FAST_STACK_CMP (1 << 9), BPF_F_USER_STACK (1 << 8). */
#ifndef KERN_STACKID_FLAGS
#define KERN_STACKID_FLAGS (0ULL | (1ULL << 9))
#endif
#ifndef USER_STACKID_FLAGS
#define USER_STACKID_FLAGS (0ULL | (1ULL << 9) | (1ULL << 8))
#endif

#ifndef ntohs
#define ntohs(x) bpf_ntohs(x)
#endif
#ifndef htons
#define htons(x) bpf_htons(x)
#endif
#ifndef ntohl
#define ntohl(x) bpf_ntohl(x)
#endif
#ifndef htonl
#define htonl(x) bpf_htonl(x)
#endif
#ifndef ntohll
#define ntohll(x) ((__u64)bpf_be64_to_cpu(x))
#endif
#ifndef htonll
#define htonll(x) ((__u64)bpf_cpu_to_be64(x))
#endif

/* Compiled in only with -DLBC_DEBUG, so shipped objects never write to trace_pipe. */
#ifdef LBC_DEBUG
#define lbc_debug(fmt, ...) bpf_printk(fmt, ##__VA_ARGS__)
#else
#define lbc_debug(fmt, ...) do { } while (0)
#endif

/*
 * Ring buffers and perf arrays cannot carry a value type (the kernel wants value_size 0 / 4), so
 * the event type is named in a BTF decl tag on the map variable ("lbc.event=struct event"), and a
 * zero-initialised variable of that type in the ".lbc.types" section keeps the type itself in the
 * object's BTF even when the program only uses it through pointers. libbpf skips that section.
 */
#define __LBC_EVENT_TAG(_type) __attribute__((btf_decl_tag("lbc.event=" #_type)))
#define __LBC_KEEP_TYPE(_name, _type)                                                             \
  static _type __lbc_event_##_name __attribute__((section(".lbc.types"), used))

#define __LBC_MAP(_name, _maptype, _key, _value, _entries)                                        \
  struct {                                                                                        \
    __uint(type, _maptype);                                                                       \
    __uint(max_entries, _entries);                                                                \
    __type(key, _key);                                                                            \
    __type(value, _value);                                                                        \
  } _name SEC(".maps")

#define LBC_HASH(_name, _key, _value, _entries) __LBC_MAP(_name, BPF_MAP_TYPE_HASH, _key, _value, _entries)
#define LBC_LRU_HASH(_name, _key, _value, _entries) __LBC_MAP(_name, BPF_MAP_TYPE_LRU_HASH, _key, _value, _entries)
#define LBC_PERCPU_HASH(_name, _key, _value, _entries) __LBC_MAP(_name, BPF_MAP_TYPE_PERCPU_HASH, _key, _value, _entries)
#define LBC_LRU_PERCPU_HASH(_name, _key, _value, _entries) __LBC_MAP(_name, BPF_MAP_TYPE_LRU_PERCPU_HASH, _key, _value, _entries)

/*
 * Arrays in both forms: lbc's (name, value_t, entries), keyed by u32, and pylcc's
 * (name, key_t, value_t, entries). The macro counts its arguments to pick one.
 */
#define __LBC_BY_ARGC(_1, _2, _3, _4, _chosen, ...) _chosen
#define __LBC_ARRAY3(_name, _value, _entries) __LBC_MAP(_name, BPF_MAP_TYPE_ARRAY, u32, _value, _entries)
#define __LBC_ARRAY4(_name, _key, _value, _entries) __LBC_MAP(_name, BPF_MAP_TYPE_ARRAY, _key, _value, _entries)
#define __LBC_PERCPU_ARRAY3(_name, _value, _entries) __LBC_MAP(_name, BPF_MAP_TYPE_PERCPU_ARRAY, u32, _value, _entries)
#define __LBC_PERCPU_ARRAY4(_name, _key, _value, _entries) __LBC_MAP(_name, BPF_MAP_TYPE_PERCPU_ARRAY, _key, _value, _entries)
#define LBC_ARRAY(...) __LBC_BY_ARGC(__VA_ARGS__, __LBC_ARRAY4, __LBC_ARRAY3, __lbc_array_takes_3_or_4_arguments)(__VA_ARGS__)
#define LBC_PERCPU_ARRAY(...) __LBC_BY_ARGC(__VA_ARGS__, __LBC_PERCPU_ARRAY4, __LBC_PERCPU_ARRAY3, __lbc_array_takes_3_or_4_arguments)(__VA_ARGS__)

/* Perf event array: `_entries` is the number of CPU slots (0 lets libbpf use the CPU count). */
#define LBC_PERF_OUTPUT(_name, _type, _entries)                                                   \
  __LBC_KEEP_TYPE(_name, _type);                                                                  \
  struct {                                                                                        \
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);                                                  \
    __uint(key_size, sizeof(u32));                                                                \
    __uint(value_size, sizeof(u32));                                                              \
    __uint(max_entries, _entries);                                                                \
  } _name SEC(".maps") __LBC_EVENT_TAG(_type)

/* Ring buffer of `_bytes` bytes (a power of two, multiple of the page size). */
#define LBC_RINGBUF(_name, _type, _bytes)                                                         \
  __LBC_KEEP_TYPE(_name, _type);                                                                  \
  struct {                                                                                        \
    __uint(type, BPF_MAP_TYPE_RINGBUF);                                                           \
    __uint(max_entries, _bytes);                                                                  \
  } _name SEC(".maps") __LBC_EVENT_TAG(_type)

/* Stack traces for bpf_get_stackid(): `_entries` stacks of up to PERF_MAX_STACK_DEPTH frames. */
#ifndef PERF_MAX_STACK_DEPTH
#define PERF_MAX_STACK_DEPTH 127
#endif
#define LBC_STACK(_name, _entries)                                                                \
  struct {                                                                                        \
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);                                                       \
    __uint(max_entries, _entries);                                                                \
    __uint(key_size, sizeof(u32));                                                                \
    __uint(value_size, PERF_MAX_STACK_DEPTH * sizeof(u64));                                       \
  } _name SEC(".maps")

/*
 * Histograms, as pylcc's: an array of u64 counters, slot k counting values whose log2 (LBC_HIST2,
 * 64 slots) or log10 (LBC_HIST10, 20 slots) rounds down to k; 0 and negatives count in slot 0.
 * A decl tag tells the client which scale, so map.showHist() prints the right ranges.
 */
#define __LBC_HIST(_name, _slots, _scale)                                                         \
  struct {                                                                                        \
    __uint(type, BPF_MAP_TYPE_ARRAY);                                                             \
    __uint(max_entries, _slots);                                                                  \
    __type(key, int);                                                                             \
    __type(value, u64);                                                                           \
  } _name SEC(".maps") __attribute__((btf_decl_tag("lbc.hist=" _scale)))
#define LBC_HIST2(_name) __LBC_HIST(_name, 64, "log2")
#define LBC_HIST10(_name) __LBC_HIST(_name, 20, "log10")

/* floor(log2(value)); 0 for values below 1. Five compares, no loop for the verifier to walk. */
static __always_inline int fast_log2(long value)
{
  u64 v = value < 1 ? 0 : (u64)value;
  int n = 0;
  if (v >> 32) { v >>= 32; n += 32; }
  if (v >> 16) { v >>= 16; n += 16; }
  if (v >> 8) { v >>= 8; n += 8; }
  if (v >> 4) { v >>= 4; n += 4; }
  if (v >> 2) { v >>= 2; n += 2; }
  if (v >> 1) n += 1;
  return n;
}

/* pylcc's powers of ten. */
#define NUM_E16 10000000000000000ULL
#define NUM_E8 100000000ULL
#define NUM_E4 10000ULL
#define NUM_E2 100ULL
#define NUM_E1 10ULL

/* floor(log10(value)); 0 for values below 10. Compares against constants: BPF has no signed division. */
static __always_inline int fast_log10(long value)
{
  u64 v = value < 1 ? 0 : (u64)value;
  u64 power = 10;
  int n = 0;
#pragma unroll
  for (int i = 0; i < 19; i++) {
    if (v >= power) n++;
    power *= 10;
  }
  return n;
}

/* Adds `v` to slot `k` of a histogram (or any array of u64); a slot out of range is ignored. */
static __always_inline void add_hist(void *map, int k, int v)
{
  u64 *slot = bpf_map_lookup_elem(map, &k);
  if (slot) __sync_fetch_and_add(slot, v);
}
#define incr_hist(map, k) add_hist(map, k, 1)

static __always_inline void hist2_push(void *map, long v)
{
  incr_hist(map, fast_log2(v));
}

static __always_inline void hist10_push(void *map, long v)
{
  incr_hist(map, fast_log10(v));
}

#endif /* __LBC_H__ */
