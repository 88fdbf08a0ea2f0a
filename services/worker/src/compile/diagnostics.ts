/**
 * Clang's diagnostics as the user should see them: every sandbox path rewritten to the user's own
 * file names (hello.bpf.c:12:5, x.h:3:1, vmlinux.h, lbc.h, bpf/bpf_helpers.h), and any diagnostic
 * about a file outside the program and the system headers withheld entirely, because its source
 * snippet would quote that file.
 */
import { SANDBOX_KERNEL, SANDBOX_LBC, SANDBOX_OUT, SANDBOX_SRC } from '../sandbox/warm-pool.ts';

/** Directories whose headers the user may see quoted, mapped to how `#include <...>` names them. */
const SYSTEM_DIRS: RegExp[] = [
  /^\/usr\/lib\/llvm-\d+\/lib\/clang\/\d+\/include\//,
  /^\/usr\/include\/(x86_64|aarch64)-linux-gnu\//,
  /^\/usr\/local\/include\//,
  /^\/usr\/include\//,
];

const PSEUDO_FILES = new Set(['<built-in>', '<command line>', '<scratch space>', '<stdin>']);

/** The user-facing name of a path clang printed, or undefined when it lies outside what the user may see. */
export function userPath(path: string, userFiles: ReadonlySet<string>): string | undefined {
  if (PSEUDO_FILES.has(path)) return path;
  let rel: string | undefined;
  if (path.startsWith(`${SANDBOX_SRC}/`)) rel = path.slice(SANDBOX_SRC.length + 1);
  else if (!path.startsWith('/')) rel = path;
  if (rel !== undefined) {
    rel = rel.replace(/^(\.\/)+/, '');
    return userFiles.has(rel) ? rel : undefined;
  }
  if (path === `${SANDBOX_KERNEL}/vmlinux.h`) return 'vmlinux.h';
  if (path === `${SANDBOX_LBC}/lbc.h`) return 'lbc.h';
  for (const dir of SYSTEM_DIRS) {
    const m = dir.exec(path);
    if (m) {
      const rest = path.slice(m[0].length);
      return rest.includes('..') ? undefined : rest;
    }
  }
  return undefined;
}

// "file:12:5: error: ..." / "file:12: ..." / "In file included from file:3:" / "                 from file:4:"
const LOCATION = /^(In file included from |\s+from )?(.+?):(\d+)(?::(\d+))?(:|,)(.*)$/;

const WITHHELD = 'error: a diagnostic about a file outside the program was withheld';

export function cleanDiagnostics(stderr: string, userFiles: ReadonlySet<string>): string {
  const out: string[] = [];
  let keep = true;
  let withheld = false;
  for (const line of stderr.split('\n')) {
    const m = LOCATION.exec(line);
    if (m && (m[1] !== undefined || !/^\s/.test(line))) {
      const name = userPath(m[2]!, userFiles);
      keep = name !== undefined;
      if (!keep) {
        withheld = true;
        continue;
      }
      out.push(`${m[1] ?? ''}${name}:${m[3]}${m[4] ? `:${m[4]}` : ''}${m[5]}${scrub(m[6]!)}`);
      continue;
    }
    if (/^\d+ (errors?|warnings?)( and \d+ (errors?|warnings?))? generated\.$/.test(line)) {
      keep = true;
      out.push(line);
      continue;
    }
    if (keep) out.push(scrub(line));
  }
  if (withheld) out.push(WITHHELD);
  return out.join('\n').replace(/\n+$/, '');
}

/** Message text may still name a sandbox directory (e.g. "'/job/src/x.h' file not found"). */
function scrub(text: string): string {
  return text
    .split(`${SANDBOX_SRC}/`).join('')
    .split(`${SANDBOX_OUT}/`).join('')
    .split(`${SANDBOX_KERNEL}/`).join('')
    .split(`${SANDBOX_LBC}/`).join('')
    .replace(/\/usr\/lib\/llvm-\d+\/lib\/clang\/\d+\/include\//g, '')
    .replace(/\/usr\/include\/((x86_64|aarch64)-linux-gnu\/)?/g, '');
}
