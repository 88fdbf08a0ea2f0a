/**
 * SEC("uprobe/BINARY:FUNC[+OFF]") and SEC("uretprobe/...") attached by lbc rather than by libbpf,
 * so a failure says why instead of a bare EINVAL: a section naming a function but no binary
 * (libbpf-tools' SEC("uretprobe/readline"), whose user space attaches it by hand), a binary not
 * found (and where it was looked for), or a symbol missing from it.
 */
import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LbcError } from '@lbc/contract';
import { resolveLibrary } from '../elf/index.ts';

const UPROBE_SECTION = /^(uprobe|uretprobe)(?:\.s)?\/(.*)$/;

export interface UprobeSection {
  retprobe: boolean;
  /** As written in the section; undefined when the section names only a function. */
  binary?: string;
  /** Symbol, symbol+offset, or an offset. */
  func: string;
}

/** The uprobe a section names; undefined for sections that are not uprobes or name no target at all (SEC("uprobe")). */
export function parseUprobeSection(section: string): UprobeSection | undefined {
  const m = UPROBE_SECTION.exec(section);
  if (!m || m[2] === '') return undefined;
  const spec = m[2]!;
  const colon = spec.lastIndexOf(':');
  const retprobe = m[1] === 'uretprobe';
  if (colon < 0) return { retprobe, func: spec };
  return { retprobe, binary: spec.slice(0, colon), func: spec.slice(colon + 1) };
}

/** SEC("uretprobe/readline"): a function without a binary cannot be attached by its section alone. */
export function noBinaryError(prog: string, section: string, spec: UprobeSection): LbcError {
  const method = spec.retprobe ? 'attachUretprobe' : 'attachUprobe';
  return new LbcError(
    'LBC_ERR_ATTACH',
    `${prog} → SEC("${section}"): the section names the function ${spec.func} but no binary, so it cannot be attached by its section ` +
      `(libbpf: EINVAL). Name the binary in the section, SEC("${section.split('/')[0]}//bin/bash:${spec.func}"), or attach it by hand: lbc.programs.${prog}.${method}(-1, '/bin/bash', '${spec.func}')`,
    { prog, section, kind: spec.retprobe ? 'uretprobe' : 'uprobe', func: spec.func, reason: 'no-binary' },
  );
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/**
 * The binary's path as libbpf finds it: a name with a '/' is a path; a shared library name
 * (containing ".so") is looked up like the dynamic linker does; any other name on $PATH.
 */
export function resolveSectionBinary(binary: string, prog: string, section: string): string {
  let tried: string[];
  if (binary.includes('/')) {
    if (isFile(binary)) return binary;
    tried = [binary];
  } else if (binary.includes('.so')) {
    try {
      return resolveLibrary(binary);
    } catch {
      tried = ['/etc/ld.so.cache', 'the standard library directories'];
    }
  } else {
    const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
    const found = dirs.map((d) => join(d, binary)).find(isFile);
    if (found) return found;
    tried = dirs.map((d) => join(d, binary));
  }
  throw new LbcError('LBC_ERR_LIBRARY_NOT_FOUND', `${prog} → SEC("${section}"): binary ${binary} not found (tried ${tried.join(', ')})`, { prog, section, binary, tried });
}
