/** Attaching by ELF section name, the way libbpf's bpf_program__attach reads it. */
import { ERRORS, LbcError, isLbcError } from '@lbc/contract';
import type { NativeLink, NativeObject } from '../native/types.ts';
import { noKprobesError, translateAttach } from './attach-errors.ts';
import { requireProgram } from './program-lookup.ts';
import { isKprobeSection, kprobesAvailable } from './kernel-support.ts';
import { uprobeAtOffset, uprobeLocation } from './probes.ts';
import { noBinaryError, parseUprobeSection, resolveSectionBinary } from './uprobe-section.ts';
import { ITER_SECTION } from './iterators.ts';
import { attachLsm, LSM_SECTION } from './lsm-support.ts';

const EOPNOTSUPP = 95;

export function attachBySection(object: NativeObject, prog: string): NativeLink {
  const info = requireProgram(object, prog);
  const target = { prog, kind: 'section' as const, target: `SEC("${info.section}")`, section: info.section };
  // Say it before libbpf tries its tracefs fallback and prints about it.
  if (isKprobeSection(info.section) && !kprobesAvailable()) throw noKprobesError(target);
  // LSM programs: where "bpf" is not an active LSM the kernel may attach them and never run them.
  if (LSM_SECTION.test(info.section)) return attachLsm(object, prog);
  const uprobe = parseUprobeSection(info.section);
  if (uprobe) {
    if (uprobe.binary === undefined) throw noBinaryError(prog, info.section, uprobe);
    const path = resolveSectionBinary(uprobe.binary, prog, info.section);
    const location = withSection(() => uprobeLocation(path, uprobe.func), prog, info.section);
    return uprobeAtOffset(object, prog, -1, location, uprobe.retprobe);
  }
  return translateAttach(target, () => object.attach(prog));
}

/** An ELF lookup's error (symbol not in the binary) with the section that asked for it in front. */
function withSection<T>(lookup: () => T, prog: string, section: string): T {
  try {
    return lookup();
  } catch (err) {
    if (isLbcError(err)) {
      const prefix = `${ERRORS[err.code].message}: `;
      const detail = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
      throw new LbcError(err.code, `${prog} → SEC("${section}"): ${detail}`, { ...err.details, prog, section }, { cause: err });
    }
    throw err;
  }
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
      // SEC("uretprobe/readline"): libbpf-tools attach these by hand, to a binary of their choice;
      // an iterator is created and read, not attached to an event.
      const uprobe = parseUprobeSection(program.section);
      if ((uprobe && uprobe.binary === undefined) || ITER_SECTION.test(program.section)) {
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
