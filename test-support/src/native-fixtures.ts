/**
 * Builds the trusted BPF test fixtures (client/test/fixtures/*.bpf.c) with the host's clang-16
 * against this kernel's vmlinux.h, generated once per test file into a temp dir; nothing generated
 * is committed. Also builds the tiny C workload the event tests trace.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The fixtures' sources stay with the client tests that load them.
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'client', 'test', 'fixtures');
const MULTIARCH = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
// PT_REGS_* (bpf_tracing.h, usdt.bpf.h) need the target's register layout.
const TARGET_ARCH = `-D__TARGET_ARCH_${process.arch === 'arm64' ? 'arm64' : 'x86'}`;

export interface FixtureBuilder {
  dir: string;
  /** The compiled object of fixtures/NAME.bpf.c. */
  object(name: string): Buffer;
  /** The compiled object's file (compiled on first use). */
  objectPath(name: string): string;
  /** A C program given as text, compiled with the host's cc; returns its path. */
  program(name: string, source: string): string;
  cleanup(): void;
}

export function fixtureBuilder(): FixtureBuilder {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-native-'));
  const vmlinux = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { maxBuffer: 64 << 20 });
  writeFileSync(join(dir, 'vmlinux.h'), vmlinux);
  return {
    dir,
    object(name) {
      return readFileSync(this.objectPath(name));
    },
    objectPath(name) {
      const out = join(dir, `${name}.bpf.o`);
      if (!existsSync(out)) {
        execFileSync('clang-16', ['-O2', '-g', '-target', 'bpf', TARGET_ARCH, `-I/usr/include/${MULTIARCH}`, '-I', dir, '-c', join(FIXTURES, `${name}.bpf.c`), '-o', out]);
      }
      return out;
    },
    program(name, source) {
      const src = join(dir, `${name}.c`);
      const out = join(dir, name);
      writeFileSync(src, source);
      execFileSync('cc', ['-O2', '-o', out, src]);
      return out;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Calls getppid() N times (argv[1]); with argv[2] "wait" first waits for a line on stdin; with
 * argv[3] and argv[4], sleeps argv[4] µs after every argv[3] calls (a paced producer).
 */
export const GETPPID_LOOP = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1;
  long burst = argc > 4 ? atol(argv[3]) : 0, pause = argc > 4 ? atol(argv[4]) : 0;
  if (argc > 2 && strcmp(argv[2], "wait") == 0) { char line[8]; if (!fgets(line, sizeof line, stdin)) return 1; }
  long sum = 0;
  for (long i = 0; i < n; i++) {
    sum += getppid();
    if (burst > 0 && (i + 1) % burst == 0) usleep(pause);
  }
  return sum == 0;
}
`;

/** Names of the BPF programs currently loaded in the kernel, as bpftool lists them. */
export function loadedProgramNames(): string[] {
  const list = JSON.parse(execFileSync('bpftool', ['prog', 'list', '--json']).toString()) as Array<{ name?: string }>;
  return list.map((p) => p.name ?? '');
}

/**
 * Test programs (names starting with `prefix`) still loaded after waiting up to `ms`: the kernel
 * frees raw_tp/tp_btf programs after an RCU grace period, not at close().
 */
export async function lingeringPrograms(prefix = 'lbct_', ms = 3000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const names = loadedProgramNames().filter((n) => n.startsWith(prefix));
    if (names.length === 0 || Date.now() > deadline) return names;
    await new Promise((r) => setTimeout(r, 50));
  }
}
