/**
 * What the client would do to an object before load, worked out on the host by the client's own
 * code and written as the guest runner's plan (lab-runner/plan.h has the format): the object opened
 * with the client's libbpf addon; globals encoded to their sections' bytes by the client's Globals
 * (offsets and codecs from the object's BTF); autoload and map sizes checked against the object;
 * twins found by findTwins and decided by planFallbacks. Only the trampoline probe itself is left
 * to the guest: its answer depends on the kernel the guest runs.
 */
import { LbcError, type VerifySetup, type VerifyWorkload } from '@lbc/contract';
import { findTwins, Globals, loadNative, parseObjectBtf, planFallbacks, type FallbackDecision, type NativeObject, type ProgramFacts } from 'lbc-client/internal/verify';

export const MAX_WORKLOAD_REPEAT = 1000;
const TRAMPOLINE = /^(fentry|fexit)(?:\.s)?\/(.+)$/;
/** Plan fields are tab-separated lines: nothing the plan carries may hold either. */
const PLAIN = /^[^\t\n\r]+$/;

/** Builds the plan text for `object` (a .bpf.o) under `setup` and `workload`. */
export function guestPlan(object: Buffer, setup: VerifySetup = {}, workload?: VerifyWorkload): string {
  const native = loadNative();
  const opened = native.openObject(object, 'verify');
  try {
    return [...setupLines(opened, setup), ...workloadLines(workload)].map((fields) => fields.join('\t')).join('\n') + '\n';
  } finally {
    opened.close();
  }
}

function setupLines(object: NativeObject, setup: VerifySetup): string[][] {
  const lines: string[][] = [];
  const programs = object.programs();
  const known = programs.map((p) => p.name);
  for (const [name, on] of Object.entries(setup.autoload ?? {})) {
    if (!known.includes(name)) throw notFound('LBC_ERR_PROGRAM_NOT_FOUND', 'program', name, known, 'setup.autoload');
    lines.push(['autoload', name, on ? '1' : '0']);
  }
  const mapNames = object.maps().filter((m) => !m.internal).map((m) => m.name);
  for (const [name, n] of Object.entries(setup.maxEntries ?? {})) {
    if (!mapNames.includes(name)) throw notFound('LBC_ERR_MAP_NOT_FOUND', 'map', name, mapNames, 'setup.maxEntries');
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new LbcError('LBC_ERR_BAD_REQUEST', `setup.maxEntries.${name} must be an integer in 0..4294967295 (got ${n})`);
    lines.push(['max_entries', name, String(n)]);
  }
  lines.push(...globalLines(object, setup.globals ?? {}));
  if (setup.fallbacks !== false) {
    const facts: ProgramFacts[] = programs.map((p) => ({ name: p.name, section: p.section, autoload: setup.autoload?.[p.name] ?? p.autoload }));
    lines.push(...twinLines(facts, setup.twins));
  }
  return lines;
}

/** Each global set in the section that declares it, by the client's codecs; one line per section touched. */
function globalLines(object: NativeObject, values: Record<string, number | string | boolean>): string[][] {
  if (Object.keys(values).length === 0) return [];
  const raw = object.btf();
  const globals = new Globals(object, raw ? parseObjectBtf(raw, 'object') : null, 'object');
  const touched = new Set<string>();
  for (const [name, value] of Object.entries(values)) {
    const section = Object.keys(globals.sections).find((s) => name in globals.sections[s]!);
    if (!section) {
      const all = Object.values(globals.sections).flatMap((vars) => Object.keys(vars));
      throw new LbcError('LBC_ERR_GLOBAL_NOT_FOUND', `setup.globals: the object has no global variable ${JSON.stringify(name)}; its globals: ${all.join(', ') || 'none'}`, { variable: name, known: all });
    }
    globals.sections[section]![name] = value;
    touched.add(section);
  }
  // Globals hands each section's bytes to libbpf before load: here, to the plan instead.
  const lines: string[][] = [];
  globals.beforeLoad({
    setMapInitialValue(section: string, bytes: Buffer) {
      if (touched.has(section)) lines.push(['initial_value', section, bytes.toString('hex')]);
    },
  } as unknown as NativeObject);
  return lines;
}

/**
 * planFallbacks asks one question per twin group (can fentry/fexit attach to F?). Asked with every
 * answer yes and every answer no, it gives each group's two outcomes; the guest probes and applies
 * the one that holds. Decisions that do not depend on a probe apply always.
 */
function twinLines(facts: ProgramFacts[], explicit?: Record<string, string>): string[][] {
  const groups = findTwins(facts, explicit);
  if (groups.size === 0) return [];
  const ifAttaches = planFallbacks(facts, { trampoline: () => true }, explicit);
  const ifNot = planFallbacks(facts, { trampoline: () => false }, explicit);
  const bySection = new Map(facts.map((p) => [p.name, p.section]));
  const probeIds = new Map<string, string>();
  const lines: string[][] = [];
  const probeOf = (primary: string): string | undefined => {
    const t = TRAMPOLINE.exec(bySection.get(primary) ?? '');
    if (!t) return undefined;
    const key = `${t[1]}:${t[2]}`;
    let id = probeIds.get(key);
    if (!id) {
      probeIds.set(key, (id = `p${probeIds.size}`));
      lines.push(['probe', id, t[1]!, t[2]!]);
    }
    return id;
  };
  const turnOff = (d: FallbackDecision, probe: string | undefined, when: 'attaches' | 'fails') => {
    for (const field of [d.prog, d.instead, d.reason]) if (!PLAIN.test(field)) throw new LbcError('LBC_ERR_BAD_REQUEST', `setup.twins: ${JSON.stringify(field)} cannot be used`);
    lines.push(['turn_off', probe ?? '-', probe ? when : 'always', d.prog, d.instead, d.reason]);
  };
  for (const d of ifAttaches) turnOff(d, probeOf(d.instead), 'attaches');
  for (const d of ifNot) turnOff(d, probeOf(d.prog), 'fails');
  // A decision without a probe is in both lists: keep one.
  return lines.filter((l, i) => l[2] !== 'always' || lines.findIndex((m) => m.join('\t') === l.join('\t')) === i);
}

function workloadLines(workload?: VerifyWorkload): string[][] {
  if (!workload) return [];
  const repeat = workload.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > MAX_WORKLOAD_REPEAT) {
    throw new LbcError('LBC_ERR_BAD_REQUEST', `workload.repeat must be an integer in 1..${MAX_WORKLOAD_REPEAT} (got ${repeat})`);
  }
  if (workload.command.length === 0 || !workload.command.every((a) => PLAIN.test(a))) {
    throw new LbcError('LBC_ERR_BAD_REQUEST', 'workload.command must be a non-empty argv whose arguments hold no tab or newline, e.g. ["cat", "/etc/os-release"]');
  }
  return [['workload', String(repeat), ...workload.command]];
}

function notFound(code: 'LBC_ERR_PROGRAM_NOT_FOUND' | 'LBC_ERR_MAP_NOT_FOUND', kind: string, name: string, known: string[], field: string): LbcError {
  return new LbcError(code, `${field}: the object has no ${kind} ${JSON.stringify(name)}; its ${kind}s: ${known.join(', ') || 'none'}`, { [kind]: name, known });
}
