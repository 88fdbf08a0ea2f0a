/**
 * A bound on everything the ingest container writes to its scratch directory on the host disk.
 * RLIMIT_FSIZE bounds each file; a package whose headers lie could still unpack many large
 * vmlinux-named members, so the worker adds the sizes up while the container runs and stops it
 * beyond the bound.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

export interface ScratchWatch {
  /** Why the bound was crossed, once it has been. */
  readonly exceeded: string | undefined;
  /** Measures once more now (a container may finish between two ticks); the reason, if crossed. */
  check(): Promise<string | undefined>;
  stop(): void;
}

const MAX_ENTRIES = 10_000;

async function usage(dir: string): Promise<{ bytes: number; entries: number }> {
  let bytes = 0;
  let entries = 0;
  const walk = async (d: string): Promise<void> => {
    const list = await fs.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of list) {
      if (++entries > MAX_ENTRIES) return;
      const path = join(d, e.name);
      if (e.isDirectory()) await walk(path);
      else bytes += (await fs.lstat(path).catch(() => ({ size: 0 }))).size;
    }
  };
  await walk(dir);
  return { bytes, entries };
}

export function watchScratch(dir: string, maxBytes: number, onExceeded: (why: string) => void, everyMs = 250): ScratchWatch {
  let exceeded: string | undefined;
  let busy = false;
  const measure = async (): Promise<string | undefined> => {
    const { bytes, entries } = await usage(dir);
    if (!exceeded && bytes > maxBytes) exceeded = `the package unpacked to more than ${maxBytes} bytes (LBC_INGEST_MAX_UNPACKED_BYTES)`;
    else if (!exceeded && entries > MAX_ENTRIES) exceeded = `the package unpacked more than ${MAX_ENTRIES} files`;
    return exceeded;
  };
  const timer = setInterval(() => {
    if (busy || exceeded) return;
    busy = true;
    void measure()
      .then((why) => why && onExceeded(why))
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  timer.unref();
  return {
    get exceeded() {
      return exceeded;
    },
    check: measure,
    stop: () => clearInterval(timer),
  };
}
