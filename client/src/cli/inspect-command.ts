import type { Command } from 'commander';
import { LbcError } from '@lbc/contract';
import { dumpMap, inspectLinks, inspectMap, inspectMaps, inspectProgram, inspectPrograms, measureRunStats } from '../inspect/index.ts';
import { jsonSafe } from './event-format.ts';
import { dumpLines, linksTable, mapDetail, mapsTable, programDetail, programsTable } from './inspect-format.ts';
import { reportError } from './print-error.ts';

const WHAT = ['progs', 'prog', 'maps', 'map', 'links'] as const;
type What = (typeof WHAT)[number];

interface Flags {
  json?: boolean;
  dump?: boolean;
  stats?: string;
  limit?: string;
}

function positive(value: string | undefined, flag: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new LbcError('LBC_ERR_BAD_REQUEST', `${flag} takes a number in (0, ${max}], not ${JSON.stringify(value)}`);
  return n;
}

function objectId(what: string, id: string | undefined): number {
  if (id === undefined || !/^\d+$/.test(id) || Number(id) > 0xffffffff) {
    throw new LbcError('LBC_ERR_BAD_REQUEST', `inspect ${what} takes an id (a number, as inspect ${what}s lists them), not ${JSON.stringify(id ?? '')}`);
  }
  return Number(id);
}

/** What is loaded in the kernel right now, whoever loaded it (like bpftool, with full names and BPF-on-BPF targets). */
async function run(what: What, id: string | undefined, flags: Flags): Promise<string> {
  const seconds = positive(flags.stats, '--stats', 3600);
  const json = (v: unknown) => `${JSON.stringify(jsonSafe(v), null, 2)}\n`;
  if (flags.dump && what !== 'map') throw new LbcError('LBC_ERR_BAD_REQUEST', '--dump goes with inspect map ID');
  if (seconds !== undefined && what !== 'progs' && what !== 'prog') throw new LbcError('LBC_ERR_BAD_REQUEST', '--stats goes with inspect progs or inspect prog ID');
  switch (what) {
    case 'progs': {
      const stats = seconds !== undefined ? await measureRunStats(seconds) : undefined;
      const progs = inspectPrograms();
      if (flags.json) return json(progs.map((p) => ({ ...p, ...(stats?.get(p.id) ? { stats: stats.get(p.id) } : {}) })));
      return programsTable(progs, stats);
    }
    case 'prog': {
      const n = objectId('prog', id);
      inspectProgram(n); // an unknown id fails before the stats window
      const stats = seconds !== undefined ? (await measureRunStats(seconds, { ids: [n] })).get(n) : undefined;
      const p = inspectProgram(n);
      if (flags.json) return json({ ...p, ...(stats ? { stats: { seconds, ...stats } } : {}) });
      return programDetail(p, stats, seconds);
    }
    case 'maps': {
      const maps = inspectMaps();
      return flags.json ? json(maps) : mapsTable(maps);
    }
    case 'map': {
      const n = objectId('map', id);
      if (flags.dump) {
        const d = dumpMap(n, { limit: positive(flags.limit, '--limit', 10_000_000) });
        return flags.json ? json(d) : mapDetail(inspectMap(n)) + dumpLines(d);
      }
      const m = inspectMap(n);
      return flags.json ? json(m) : mapDetail(m);
    }
    case 'links': {
      const links = inspectLinks();
      return flags.json ? json(links) : linksTable(links);
    }
  }
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('what BPF programs, maps and links are loaded in the kernel, with full names and BPF-on-BPF targets (needs root)')
    .argument('<what>', WHAT.join(' | '))
    .argument('[id]', 'the program or map id (prog, map)')
    .option('--json', 'print JSON')
    .option('--stats <seconds>', "turn the kernel's BPF run-time stats on for this long and show what ran meanwhile (progs, prog)")
    .option('--dump', "map: print its entries, decoded by the map's BTF types")
    .option('--limit <n>', 'map --dump: at most this many entries (10000)')
    .action(async (what: string, id: string | undefined, flags: Flags) => {
      try {
        if (!(WHAT as readonly string[]).includes(what)) {
          throw new LbcError('LBC_ERR_BAD_REQUEST', `inspect takes ${WHAT.join(', ')}, not ${JSON.stringify(what)}`);
        }
        if (id !== undefined && what !== 'prog' && what !== 'map') throw new LbcError('LBC_ERR_BAD_REQUEST', `inspect ${what} takes no id (inspect ${what.slice(0, -1)} ID does)`);
        process.stdout.write(await run(what as What, id, flags));
      } catch (err) {
        reportError(err);
      }
    });
}
