/** How `lbc inspect` prints: tables for listings, "key  value" lines for one object. */
import { describeTarget, NOT_REPORTED, type InspectedLink, type InspectedMap, type InspectedMapDetail, type InspectedProgram, type InspectedProgramDetail, type MapDump, type RunStatsDelta } from '../inspect/index.ts';
import { inline } from './event-format.ts';
import { formatTable } from './table.ts';

type Stats = Map<number, RunStatsDelta> | undefined;

function targetCell(p: InspectedProgram): string | undefined {
  if (p.targets.length) return p.targets.map(describeTarget).join('; ');
  if (p.targetNote === NOT_REPORTED) return '? (not reported by this kernel)';
  return p.targetNote;
}

export function programsTable(progs: InspectedProgram[], stats: Stats): string {
  const header = ['ID', 'TYPE', 'NAME', 'ATTACH', 'TARGET', ...(stats ? ['RUNS', 'NS/RUN'] : [])];
  const rows = progs.map((p) => {
    const s = stats?.get(p.id);
    return [p.id, p.typeName, p.name, p.attach, targetCell(p), ...(stats ? [s?.runCount.toString(), s?.nsPerRun] : [])];
  });
  const notes = progs.some((p) => p.targetNote === NOT_REPORTED) ? `\n? ${NOT_REPORTED}.\n` : '';
  return formatTable(header, rows) + notes;
}

function lines(pairs: Array<[string, string | number | undefined]>): string {
  const shown = pairs.filter(([, v]) => v !== undefined && v !== '');
  const width = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

// An extension is jumped to from its target without the stats wrapper: its runs are the target's.
const EXT_RUNS = ' (freplace runs count as runs of the program it replaces a function of)';

function runsLine(p: InspectedProgramDetail, stats: RunStatsDelta | undefined, seconds: number | undefined): string {
  if (p.typeName === 'ext') return `${stats?.runCount ?? p.runCount ?? 0}${EXT_RUNS}`;
  if (stats && seconds !== undefined) {
    return `${stats.runCount} in ${seconds} s with BPF stats on${stats.nsPerRun !== undefined ? `, ${stats.nsPerRun} ns/run` : ''}`;
  }
  if (p.runCount === undefined) return 'not reported by this kernel';
  const avg = p.runCount > 0n ? `, ${p.runTimeNs! / p.runCount} ns/run` : '';
  const off = p.statsEnabled ? '' : ' (counted only while BPF stats are on: --stats SECONDS, or sysctl kernel.bpf_stats_enabled=1)';
  return `${p.runCount} (${p.runTimeNs} ns${avg})${off}`;
}

export function programDetail(p: InspectedProgramDetail, stats: RunStatsDelta | undefined, seconds: number | undefined): string {
  const head = `prog ${p.id}  ${p.typeName}  ${p.name}${p.kernelName !== p.name ? `  (kernel name ${p.kernelName})` : ''}\n`;
  return head + lines([
    ['tag', p.tag],
    ['attach', p.attach],
    ['target', targetCell(p)],
    ['jited', `${p.jitedBytes} bytes`],
    ['xlated', `${p.xlatedBytes} bytes`],
    ['verified', p.verifiedInsns !== undefined ? `${p.verifiedInsns} instructions` : 'not reported by this kernel (Linux 5.16+)'],
    ['runs', runsLine(p, stats, seconds)],
    ['recursion misses', p.recursionMisses?.toString()],
    ['functions', p.functions.join(', ')],
    ['maps', p.maps.map((m) => `${m.id} ${m.name} (${m.typeName})`).join(', ')],
    ['links', p.links.map((l) => [l.id, l.typeName, l.attachType, l.target].filter(Boolean).join(' ')).join(', ')],
    ['pinned', p.pinned.join(', ')],
    ['attached by', p.attachedBy.map((a) => `prog ${a.progId} ${a.name} (${a.attach} on ${a.func ?? `btf type ${a.btfTypeId}`}()${a.linkId ? `, link ${a.linkId}` : ''})`).join(', ')],
    ['uid', p.uid],
    ['btf', p.btfId],
  ]) + (p.targetNote === NOT_REPORTED ? `? ${NOT_REPORTED}.\n` : '');
}

const typed = (spelling: string | undefined, size: number) => (spelling ? `${spelling} (${size})` : `${size} bytes`);

export function mapsTable(maps: InspectedMap[]): string {
  return formatTable(
    ['ID', 'TYPE', 'NAME', 'KEY', 'VALUE', 'MAX_ENTRIES'],
    maps.map((m) => [m.id, m.typeName, m.name, typed(m.keyType, m.keySize), typed(m.valueType, m.valueSize), m.maxEntries]),
  );
}

export function mapDetail(m: InspectedMapDetail): string {
  return `map ${m.id}  ${m.typeName}  ${m.name}${m.kernelName !== m.name ? `  (kernel name ${m.kernelName})` : ''}\n` + lines([
    ['key', typed(m.keyType, m.keySize)],
    ['value', typed(m.valueType, m.valueSize)],
    ['max entries', m.maxEntries],
    ['entries', m.entries],
    ['flags', m.flags ? `0x${m.flags.toString(16)}` : undefined],
    ['used by', m.usedBy.map((p) => `prog ${p.id} ${p.name}`).join(', ')],
    ['pinned', m.pinned.join(', ')],
    ['btf', m.btfId],
  ]);
}

export function dumpLines(d: MapDump): string {
  const out = d.entries.map((e) => `${inline(e.key)} => ${inline(e.value)}`);
  if (d.truncated) out.push(`… (more than ${d.entries.length} entries: --limit N)`);
  return out.length ? `${out.join('\n')}\n` : '';
}

export function linksTable(links: InspectedLink[]): string {
  return formatTable(
    ['ID', 'TYPE', 'PROG', 'PROG_NAME', 'ATTACH', 'TARGET'],
    links.map((l) => [l.id, l.typeName, l.progId, l.progName, l.attachType, l.targetDescription ?? l.target ?? (l.typeName === 'tracing' ? '? (not reported by this kernel)' : undefined)]),
  );
}
