import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { Lbc } from '../lbc.ts';
import { MAP_TYPE, type LbcMap } from '../maps/index.ts';
import { ITER_SECTION } from '../attach/index.ts';
import { isLbcError } from '@lbc/contract';
import { cflagsOf, headerOf, includeDirsOf, sourceFile, sourceOptions, type SourceFlags } from './source-flags.ts';
import { eventJson, eventLine } from './event-format.ts';
import { reportError } from './print-error.ts';
import { progressText, startSpinner } from './spinner.ts';

interface RunFlags extends SourceFlags {
  json?: boolean;
  cacheDir?: string;
}

export function registerRun(program: Command): void {
  sourceOptions(program.command('run'))
    .description(
      'compile (or take from the cache), load and attach a program; print its BPF iterators\' output, then its perf/ring buffer events until Ctrl-C ' +
        '(a program of iterators only exits once they are printed)',
    )
    .argument('<file>', 'BPF C source, e.g. prog.bpf.c')
    .option('--json', 'one JSON object per event: {"map", "cpu", "event"}')
    .option('--cache-dir <dir>', 'local object cache (default: LBC_CACHE or ~/.cache/lbc)')
    .action(async (file: string, flags: RunFlags) => {
      try {
        await run(file, flags);
      } catch (err) {
        reportError(err);
      }
    });
}

async function run(file: string, flags: RunFlags): Promise<void> {
  const { path, name } = sourceFile(file);
  const spinner = startSpinner(`${name}: compiling`);
  const lbc = new Lbc(name, readFileSync(path, 'utf8'), {
    cwd: dirname(path),
    server: flags.server,
    cacheDir: flags.cacheDir,
    includePaths: includeDirsOf(flags),
    cflags: cflagsOf(flags),
    ...headerOf(flags),
    onProgress: (p, state) => {
      spinner.text = progressText(name, p, state);
    },
  });
  try {
    await lbc.ready;
  } finally {
    spinner.stop();
  }
  if (lbc.warnings) process.stderr.write(lbc.warnings.endsWith('\n') ? lbc.warnings : `${lbc.warnings}\n`);

  const print = (map: string, cpu: number, event: unknown) => {
    process.stdout.write(`${flags.json ? eventJson(map, cpu, event) : eventLine(map, cpu, event)}\n`);
  };
  const buffers: string[] = [];
  for (const [mapName, map] of Object.entries(lbc.maps) as Array<[string, LbcMap]>) {
    if (map.type === MAP_TYPE.PERF_EVENT_ARRAY) {
      map.openPerfBuffer((event, _raw, cpu) => print(mapName, cpu, event), (cpu, count) => process.stderr.write(`lbc: ${mapName} lost ${count} events on cpu ${cpu}\n`));
      buffers.push(mapName);
    } else if (map.type === MAP_TYPE.RINGBUF) {
      // Declaring `event` alone: records are decoded where they lie in the ring, no Buffer each.
      map.openRingBuffer((event) => print(mapName, -1, event));
      buffers.push(mapName);
    }
  }
  const iterators = printIterators(lbc);
  const running = [...lbc.programs].filter((p) => p.autoload && !iterators.includes(p.name));
  const histograms = Object.entries(lbc.maps).filter(([, map]) => map.histScale !== undefined);
  if (running.length === 0 && buffers.length === 0 && histograms.length === 0 && iterators.length > 0) {
    lbc.close();
    return;
  }

  // Spread: a program may be named `map`, and lbc.programs.map is then that program.
  const programs = [...lbc.programs].map((p) => p.name).join(', ');
  process.stderr.write(
    `lbc: ${name} loaded (${lbc.origin === 'cache' ? 'cached object' : 'compiled'}), programs: ${programs}; ` +
      `${buffers.length ? `printing events from ${buffers.join(', ')}` : 'no perf or ring buffer maps to print'}` +
      `${histograms.length ? `; histograms ${histograms.map(([n]) => n).join(', ')} printed at exit` : ''}; Ctrl-C to stop\n`,
  );

  await new Promise<void>((done) => {
    // Signal listeners do not keep Node running: a program with no buffers to poll (histograms,
    // counters) would otherwise end here, at once.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(keepAlive);
      // pylcc's tools print their LBC_HIST2/LBC_HIST10 maps with showHist(): so does lbc run, once, at the end.
      for (const [mapName, map] of histograms) {
        process.stdout.write(flags.json ? `${JSON.stringify({ map: mapName, scale: map.histScale, hist: map.hist() })}\n` : `${map.showHist(`${mapName}:`)}\n`);
      }
      lbc.close();
      done();
    };
    // First, while the maps are still open: the exit hooks (lifecycle/exit-cleanup.ts) close them on
    // the same signal. Left registered, so those hooks see the signal handled and do not re-raise it.
    process.prependListener('SIGINT', stop);
    process.prependListener('SIGTERM', stop);
  });
}

/** Runs each iterator the object holds once and prints its output (what `cat` of a pinned iterator shows). */
function printIterators(lbc: Lbc): string[] {
  const names: string[] = [];
  for (const { prog, section } of lbc.unattached) {
    if (!ITER_SECTION.test(section)) continue;
    names.push(prog);
    try {
      const link = lbc.program(prog).attachIter();
      try {
        process.stdout.write(link.read());
      } finally {
        link.destroy();
      }
    } catch (err) {
      // One iterator needing parameters (a map to walk) does not stop the others.
      process.stderr.write(`lbc: iterator ${prog}: ${isLbcError(err) ? `${err.code}: ${err.message}` : String(err)}\n`);
      process.exitCode = 1;
    }
  }
  return names;
}
