/**
 * Where programs, maps and links are pinned: every file under each mounted bpffs, opened with
 * bpf_obj_get and named by /proc/self/fdinfo (what kind, which id). Bounded, so a huge or deep
 * bpffs costs a capped walk.
 */
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import type { NativeAddon } from '../native/types.ts';

const MAX_DEPTH = 16;
const MAX_FILES = 20_000;

/** "prog:12" → ["/sys/fs/bpf/a", ...]. */
export type PinIndex = Map<string, string[]>;

export function pinKey(kind: 'prog' | 'map' | 'link', id: number): string {
  return `${kind}:${id}`;
}

export function bpffsMounts(mounts = readFileSync('/proc/mounts', 'utf8')): string[] {
  const out = new Set<string>();
  for (const line of mounts.split('\n')) {
    const [, dir, type] = line.split(' ');
    if (type === 'bpf' && dir) out.add(dir.replace(/\\040/g, ' '));
  }
  return [...out];
}

export function scanPins(native: NativeAddon, roots = bpffsMounts()): PinIndex {
  const index: PinIndex = new Map();
  let files = 0;
  const walk = (dir: string, depth: number): void => {
    if (depth > MAX_DEPTH || files >= MAX_FILES) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path, depth + 1);
      else if (e.isFile() && files++ < MAX_FILES) {
        const key = pinnedObject(native, path);
        if (key) index.set(key, [...(index.get(key) ?? []), path]);
      }
    }
  };
  for (const root of roots) walk(root, 0);
  return index;
}

function pinnedObject(native: NativeAddon, path: string): string | undefined {
  let fd: number;
  try {
    fd = native.objGet(path);
  } catch {
    return undefined;
  }
  try {
    return fdinfoKey(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  } catch {
    return undefined;
  } finally {
    native.closeFd(fd);
  }
}

/** A link's fdinfo names its program too: the kind is the first *_type line. */
export function fdinfoKey(fdinfo: string): string | undefined {
  const field = (name: string) => /^(\d+)$/.exec(new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(fdinfo)?.[1] ?? '')?.[1];
  for (const kind of ['link', 'map', 'prog'] as const) {
    if (!new RegExp(`^${kind}_type:`, 'm').test(fdinfo)) continue;
    const id = field(`${kind}_id`);
    return id ? pinKey(kind, Number(id)) : undefined;
  }
  return undefined;
}
