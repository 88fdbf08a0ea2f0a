/**
 * `lbc verify`'s setup flags as the request's setup and workload: what `new Lbc(name, src, options)`
 * and its program/map objects would set before load (--set, --autoload, --max-entries,
 * --no-fallbacks) and the command the guest runs while the programs are attached (--workload, --repeat).
 */
import { LbcError, type VerifySetup, type VerifyWorkload } from '@lbc/contract';

export interface VerifySetupFlags {
  set: string[];
  autoload: string[];
  maxEntries: string[];
  fallbacks: boolean;
  workload?: string;
  repeat?: string;
}

const bad = (flag: string, value: string, form: string): never => {
  throw new LbcError('LBC_ERR_BAD_REQUEST', `${flag} ${JSON.stringify(value)}: expected ${form}`, { field: flag });
};

function pair(flag: string, value: string, form: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq <= 0) bad(flag, value, form);
  return [value.slice(0, eq), value.slice(eq + 1)];
}

/** A global's value as C would read it: integers (decimal, 0x hex, negative), true/false, else a string (char arrays). */
function globalValue(text: string): number | string | boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^-?(0x[0-9a-f]+|[0-9]+)$/i.test(text)) {
    const n = Number(text.startsWith('-') ? -Number(text.slice(1)) : Number(text));
    if (Number.isSafeInteger(n)) return n;
  }
  return text;
}

export function verifySetupOf(flags: VerifySetupFlags): VerifySetup | undefined {
  const setup: VerifySetup = {};
  for (const v of flags.set) {
    const [name, value] = pair('--set', v, 'NAME=VALUE (a global of the program)');
    (setup.globals ??= {})[name] = globalValue(value);
  }
  for (const v of flags.autoload) {
    const [name, value] = pair('--autoload', v, 'PROG=on|off');
    if (!['on', 'off', 'true', 'false'].includes(value)) bad('--autoload', v, 'PROG=on|off');
    (setup.autoload ??= {})[name] = value === 'on' || value === 'true';
  }
  for (const v of flags.maxEntries) {
    const [name, value] = pair('--max-entries', v, 'MAP=N (N a positive integer)');
    const n = Number(value);
    if (!/^[0-9]+$/.test(value) || n < 1 || n > 0xffffffff) bad('--max-entries', v, 'MAP=N (N a positive integer)');
    (setup.maxEntries ??= {})[name] = n;
  }
  if (!flags.fallbacks) setup.fallbacks = false;
  return Object.keys(setup).length > 0 ? setup : undefined;
}

/** --workload 'cat /etc/hostname' is split on blanks, quotes kept together ('sh -c "ls /"'). */
export function verifyWorkloadOf(flags: VerifySetupFlags): VerifyWorkload | undefined {
  if (flags.repeat !== undefined && flags.workload === undefined) bad('--repeat', flags.repeat, 'a --workload to repeat');
  if (flags.workload === undefined) return undefined;
  const command = [...flags.workload.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  if (command.length === 0) bad('--workload', flags.workload, "a command, e.g. 'cat /etc/hostname'");
  const workload: VerifyWorkload = { command };
  if (flags.repeat !== undefined) {
    const n = Number(flags.repeat);
    if (!/^[0-9]+$/.test(flags.repeat) || n < 1 || n > 1000) bad('--repeat', flags.repeat, 'N between 1 and 1000');
    workload.repeat = n;
  }
  return workload;
}
