/**
 * USDT probes (SEC("usdt")) on an explicit target: libbpf's bpf_program__attach_usdt reads the
 * binary's .note.stapsdt notes, attaches a uprobe at every site of provider:name and tells the
 * program how to fetch each argument (BPF_USDT(handler, args...) in C, from <bpf/usdt.bpf.h>).
 */
import { existsSync } from 'node:fs';
import { LbcError } from '@lbc/contract';
import type { NativeLink, NativeObject } from '../native/types.ts';
import { resolveLibrary } from '../elf/index.ts';
import { translateAttach } from './attach-errors.ts';
import { requireProgram } from './program-lookup.ts';
import { requireKind } from './program-kind.ts';

const USDT_SECTION = /^usdt(\/|$)/;
const ENOENT = 2;

/** `binary` is a path or a library name ('libc'); pid -1 traces every process running it. */
export function attachUsdt(object: NativeObject, prog: string, pid: number, binary: string, provider: string, name: string): NativeLink {
  const info = requireProgram(object, prog);
  requireKind(info, USDT_SECTION, 'attachUsdt()', 'USDT probe');
  if (!provider || !name) {
    throw new LbcError('LBC_ERR_ATTACH_TARGET', `${prog}: attachUsdt() needs a provider and a probe name (as readelf -n lists them: "Provider: P, Name: N")`, { prog });
  }
  const path = existsSync(binary) ? binary : resolveLibrary(binary);
  const target = { prog, kind: 'usdt' as const, target: `${path}:${provider}:${name}${pid >= 0 ? ` (pid ${pid})` : ''}` };
  try {
    return translateAttach(target, () => object.attachUsdt(prog, pid, path, provider, name));
  } catch (err) {
    // libbpf says ENOENT when the binary has no such note: say it in those words.
    const errno = (err as LbcError).details?.errno;
    if (errno !== ENOENT) throw err;
    throw new LbcError(
      'LBC_ERR_ATTACH_TARGET',
      `${prog}: ${path} has no USDT probe ${provider}:${name} (readelf -n ${path} lists its stapsdt notes)`,
      { prog, binary: path, provider, name, errno },
      { cause: err },
    );
  }
}
