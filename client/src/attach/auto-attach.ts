/** Attaching by ELF section name, the way libbpf's bpf_program__attach reads it. */
import { isLbcError } from '@lbc/contract';
import type { NativeLink, NativeObject } from '../native/types.ts';
import { noKprobesError, translateAttach } from './attach-errors.ts';
import { requireProgram } from './program-lookup.ts';
import { isKprobeSection, kprobesAvailable } from './kernel-support.ts';
import { ITER_SECTION } from './iterators.ts';

const EOPNOTSUPP = 95;

export function attachBySection(object: NativeObject, prog: string): NativeLink {
  const info = requireProgram(object, prog);
  const target = { prog, kind: 'section' as const, target: `SEC("${info.section}")`, section: info.section };
  // Say it before libbpf tries its tracefs fallback and prints about it.
  if (isKprobeSection(info.section) && !kprobesAvailable()) throw noKprobesError(target);
  return translateAttach(target, () => object.attach(prog));
}

export interface AutoAttachResult {
  links: NativeLink[];
  /**
   * Programs whose section names no target (SEC("uprobe"), SEC("xdp"), ...): attach them by hand.
   * Iterators are listed here too: they run when read (attachIter().read()), and some need a map
   * or task to walk.
   */
  skipped: Array<{ prog: string; section: string }>;
}

/**
 * Attaches every program that its section can attach. On a failure, what was attached so far is
 * detached again before the error is thrown.
 */
export function autoAttach(object: NativeObject): AutoAttachResult {
  const result: AutoAttachResult = { links: [], skipped: [] };
  try {
    for (const program of object.programs()) {
      // Set up not to load (autoload = false, or a twin turned off): nothing to attach.
      if (program.autoload === false) continue;
      if (ITER_SECTION.test(program.section)) {
        result.skipped.push({ prog: program.name, section: program.section });
        continue;
      }
      try {
        result.links.push(attachBySection(object, program.name));
      } catch (err) {
        if (!isLbcError(err, 'LBC_ERR_ATTACH') || err.details?.errno !== EOPNOTSUPP) throw err;
        result.skipped.push({ prog: program.name, section: program.section });
      }
    }
  } catch (err) {
    for (const link of result.links) link.destroy();
    throw err;
  }
  return result;
}
