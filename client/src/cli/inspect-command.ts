import type { Command } from 'commander';
import { LbcError } from '@lbc/contract';
import { loadNative } from '../native/index.ts';
import { reportError } from './print-error.ts';
import { formatTable } from './table.ts';

type What = 'progs' | 'maps' | 'links';

/** What is loaded in the kernel right now, whoever loaded it (like `bpftool prog list`). */
export function inspectTable(what: What): { header: string[]; rows: Array<Array<string | number | undefined>>; json: unknown[] } {
  const native = loadNative();
  if (what === 'progs') {
    const progs = native.listPrograms();
    return {
      header: ['ID', 'TYPE', 'NAME', 'TAG', 'MAPS', 'UID'],
      rows: progs.map((p) => [p.id, p.typeName, p.name, p.tag, p.mapCount, p.uid]),
      json: progs,
    };
  }
  if (what === 'maps') {
    const maps = native.listMaps();
    return {
      header: ['ID', 'TYPE', 'NAME', 'KEY', 'VALUE', 'MAX_ENTRIES'],
      rows: maps.map((m) => [m.id, m.typeName, m.name, m.keySize, m.valueSize, m.maxEntries]),
      json: maps,
    };
  }
  const links = native.listLinks();
  const progNames = new Map(native.listPrograms().map((p) => [p.id, p.name]));
  return {
    header: ['ID', 'TYPE', 'PROG', 'PROG_NAME', 'ATTACH', 'TARGET'],
    rows: links.map((l) => [l.id, l.typeName, l.progId, progNames.get(l.progId), l.attachType, l.target]),
    json: links,
  };
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('list BPF programs, maps or links loaded in the kernel (needs root)')
    .argument('<what>', 'progs | maps | links')
    .option('--json', 'print JSON')
    .action((what: string, flags: { json?: boolean }) => {
      try {
        if (what !== 'progs' && what !== 'maps' && what !== 'links') {
          throw new LbcError('LBC_ERR_BAD_REQUEST', `inspect takes progs, maps or links, not ${JSON.stringify(what)}`);
        }
        const t = inspectTable(what);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(t.json, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
        } else {
          process.stdout.write(formatTable(t.header, t.rows));
        }
      } catch (err) {
        reportError(err);
      }
    });
}
