/**
 * Ring-buffer events/s delivered to a JS callback (64-byte records) vs a tiny C libbpf consumer of
 * the same program, in one run on this machine. A producer process calls getppid() N times; the
 * traced program emits one record per call. Run as root: node --import tsx bench/ringbuf-throughput.ts [N]
 *
 * Both consumers share 2 CPUs with an unpaced producer that outruns the 1 MiB ring, so the figure is
 * records delivered per second of delivery (first to last record) plus the share dropped; the
 * ratio of the two consumers, measured in one run, is the number to compare.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNative } from '../client/src/native/index.ts';
import { fixtureBuilder, GETPPID_LOOP } from '../client/test/native-fixtures.ts';

const CALLS = Number(process.argv[2] ?? 2_000_000);
const ROUNDS = 3;

const C_CONSUMER = `
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static long received;
static double first, last;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int on_sample(void *ctx, void *data, size_t size) { if (!received++) first = now(); last = now(); return 0; }
int main(int argc, char **argv) {
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj || bpf_object__load(obj)) return 1;
  int pid = atoi(argv[2]);
  __u32 zero = 0, target = pid;
  bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "control"), &zero, &target, 0);
  struct bpf_link *link = bpf_program__attach(bpf_object__find_program_by_name(obj, "lbct_rb_emit"));
  struct ring_buffer *rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "rb"), on_sample, NULL, NULL);
  if (!link || !rb) return 1;
  printf("ready\\n"); fflush(stdout);
  int idle = 0;
  /* Drained once the producer is gone and five polls in a row found nothing. */
  while (idle < 5) { if (ring_buffer__poll(rb, 100) == 0 && kill(pid, 0) != 0) idle++; }
  printf("%ld %.3f\\n", received, last - first);
  ring_buffer__free(rb); bpf_link__destroy(link); bpf_object__close(obj);
  return 0;
}
`;

const fixtures = fixtureBuilder();
const workload = fixtures.program('getppid-loop', GETPPID_LOOP);
const objectFile = join(fixtures.dir, 'events.bpf.o');
const elf = fixtures.object('events');
const consumerSrc = join(fixtures.dir, 'rb-consumer.c');
writeFileSync(consumerSrc, C_CONSUMER);
const consumer = join(fixtures.dir, 'rb-consumer');
execFileSync('cc', ['-O2', '-o', consumer, consumerSrc, '-lbpf', '-lelf', '-lz']);

interface Result {
  received: number;
  spanMs: number;
}

async function runC(): Promise<Result> {
  const producer = spawn(workload, [String(CALLS), 'wait'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const c = spawn(consumer, [objectFile, String(producer.pid)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  c.stdout.on('data', (d) => {
    out += d;
    if (out.startsWith('ready\n') && !producer.stdin.writableEnded) producer.stdin.end('go\n');
  });
  await once(c, 'exit');
  const [received, span] = out.trim().split('\n')[1].split(' ').map(Number);
  return { received, spanMs: span };
}

async function runJs(): Promise<Result> {
  const native = loadNative();
  const object = native.openObject(elf, 'events');
  object.load();
  const fd = (name: string) => object.maps().find((m) => m.name === name)!.fd;
  let received = 0;
  let first = 0;
  let last = 0;
  const rb = native.openRingBuffer(fd('rb'), (records) => {
    if (received === 0) first = performance.now();
    // Touch each record as a consumer would.
    for (const record of records) received += record.readUInt32LE(0) >= 0 ? 1 : 0;
    last = performance.now();
  });
  const producer = spawn(workload, [String(CALLS), 'wait'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const pid = Buffer.alloc(4);
  pid.writeUInt32LE(producer.pid!);
  native.mapUpdate(fd('control'), Buffer.alloc(4), pid, 0);
  const link = object.attach('lbct_rb_emit');
  producer.stdin.end('go\n');
  await once(producer, 'exit');
  for (let seen = -1; seen !== received; ) {
    seen = received;
    await new Promise((r) => setTimeout(r, 200));
  }
  link.destroy();
  rb.close();
  object.close();
  return { received, spanMs: last - first };
}

const rate = (r: Result) => r.received / (r.spanMs / 1000);
const line = (label: string, r: Result) =>
  `${label}: ${r.received} of ${CALLS} records (${((1 - r.received / CALLS) * 100).toFixed(1)}% dropped by a full ring) in ${r.spanMs.toFixed(0)} ms = ${(rate(r) / 1e6).toFixed(2)} M events/s`;

const results: Array<{ c: Result; js: Result }> = [];
for (let round = 0; round < ROUNDS; round++) {
  const c = await runC();
  const js = await runJs();
  results.push({ c, js });
  console.log(`round ${round + 1}\n  ${line('C libbpf ', c)}\n  ${line('JS (lbc) ', js)}\n  JS/C delivered-rate ratio ${(rate(js) / rate(c)).toFixed(2)}`);
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`median JS/C ratio ${median(results.map((r) => rate(r.js) / rate(r.c))).toFixed(2)}; median JS ${(median(results.map((r) => rate(r.js))) / 1e6).toFixed(2)} M events/s`);
fixtures.cleanup();
