/**
 * Where function_graph runs: a private tracing instance (instances/lbc-graph-<pid>) when the kernel
 * offers function_graph and set_graph_function there, otherwise the top-level tracer. Debian's
 * 5.10 and 6.1 have function_graph only at the top level; 6.12 has it in instances but without
 * set_graph_function, which would trace every function of every task: so there too the top level.
 *
 * The top level is shared with anything else on the machine, so it is taken under a lock file that
 * holds its owner's pid and the settings found before (current_tracer must be nop: another user's
 * tracer is never replaced). The settings are put back on exit, and by the next lbc graph when the
 * owner died without doing so.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LbcError } from '@lbc/contract';
import { processAlive as alive } from '../trace/process-alive.ts';
import { perform } from '../trace/tracefs.ts';

export const INSTANCE_PREFIX = 'lbc-graph-';
/** Options lbc graph sets, saved and restored where they exist. */
export const GRAPH_OPTIONS = ['funcgraph-tail', 'funcgraph-proc', 'funcgraph-irqs', 'funcgraph-cpu', 'funcgraph-duration', 'funcgraph-abstime', 'funcgraph-overhead', 'funcgraph-retval', 'funcgraph-retval-hex', 'function-fork', 'sleep-time'];
const SAVED_FILES = ['current_tracer', 'set_graph_function', 'set_graph_notrace', 'max_graph_depth', 'set_ftrace_pid', 'tracing_on'] as const;

export interface TopLevelState {
  files: Record<string, string>;
  options: Record<string, string>;
}

export interface GraphPlace {
  /** '' for the top level, else instances/NAME/ (with the slash). */
  dir: string;
  shared: boolean;
  /** Settings to put back (top level only). */
  saved?: TopLevelState;
}

export function lockPath(): string {
  return process.env.LBC_GRAPH_LOCK ?? '/run/lbc-graph.lock';
}


const read = (root: string, rel: string) => readFileSync(`${root}/${rel}`, 'utf8');

export function hasFunctionGraph(root: string, dir = ''): boolean {
  try {
    return read(root, `${dir}available_tracers`).split(/\s+/).includes('function_graph');
  } catch {
    return false;
  }
}

/** A file whose listing means "empty" ("#### all functions enabled ####", "no pid") restores as empty. */
function normalize(file: string, text: string): string {
  const t = text.trim();
  if (t.startsWith('#') || t === 'no pid') return '';
  return file === 'set_graph_function' || file === 'set_graph_notrace' ? t.split('\n').join(' ') : t;
}

function saveTopLevel(root: string): TopLevelState {
  const files: Record<string, string> = {};
  for (const f of SAVED_FILES) if (existsSync(`${root}/${f}`)) files[f] = normalize(f, read(root, f));
  const options: Record<string, string> = {};
  for (const o of GRAPH_OPTIONS) if (existsSync(`${root}/options/${o}`)) options[o] = read(root, `options/${o}`).trim();
  return { files, options };
}

/** Every step attempted: a restore that half-fails still puts back what it can. */
export function restoreTopLevel(root: string, state: TopLevelState): void {
  const attempt = (path: string, text: string) => {
    try {
      perform(root, { op: 'write', path, text });
    } catch {
      // Keep going.
    }
  };
  attempt('tracing_on', '0');
  attempt('current_tracer', state.files.current_tracer || 'nop');
  for (const f of ['set_graph_function', 'set_graph_notrace', 'set_ftrace_pid'] as const) if (f in state.files) attempt(f, state.files[f]!);
  if (state.files.max_graph_depth !== undefined) attempt('max_graph_depth', state.files.max_graph_depth);
  for (const [o, v] of Object.entries(state.options)) attempt(`options/${o}`, v);
  attempt('tracing_on', state.files.tracing_on ?? '1');
}

interface LockFile {
  pid: number;
  saved: TopLevelState;
}

function readLock(path: string): LockFile | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockFile;
  } catch {
    return undefined;
  }
}

export interface GraphSweep {
  instances: string[];
  topLevelOf?: number;
}

/** Instances and a top-level lock left by lbc graph runs that died: removed, settings put back. */
export function sweepGraphLeftovers(root: string): GraphSweep {
  const result: GraphSweep = { instances: [] };
  let entries: string[] = [];
  try {
    entries = readdirSync(`${root}/instances`);
  } catch {
    // No instances: nothing of ours.
  }
  for (const name of entries) {
    const m = new RegExp(`^${INSTANCE_PREFIX}(\\d+)$`).exec(name);
    if (!m || alive(Number(m[1]))) continue;
    for (const [path, text] of [['tracing_on', '0'], ['current_tracer', 'nop']] as const) {
      try {
        perform(root, { op: 'write', path: `instances/${name}/${path}`, text });
      } catch {
        // Best effort.
      }
    }
    try {
      rmdirSync(`${root}/instances/${name}`);
      result.instances.push(name);
    } catch {
      // Still busy: the next run tries again.
    }
  }
  const lock = readLock(lockPath());
  if (lock && !alive(lock.pid)) {
    restoreTopLevel(root, lock.saved);
    rmSync(lockPath(), { force: true });
    result.topLevelOf = lock.pid;
  }
  return result;
}

/** The private instance if it can run the graph, else the top level under the lock. */
export function takeGraphPlace(root: string, func: string): GraphPlace {
  const name = `${INSTANCE_PREFIX}${process.pid}`;
  const dir = `instances/${name}/`;
  let made = false;
  try {
    mkdirSync(`${root}/instances/${name}`);
    made = true;
  } catch {
    // No instances on this kernel: the top level.
  }
  if (made && hasFunctionGraph(root, dir) && existsSync(`${root}/${dir}set_graph_function`)) return { dir, shared: false };
  if (made) rmdirSync(`${root}/instances/${name}`);
  if (!hasFunctionGraph(root)) {
    throw new LbcError('LBC_ERR_GRAPH_UNSUPPORTED', `this kernel has no function_graph tracer (${root}/available_tracers: ${read(root, 'available_tracers').trim()}): the ftrace engine cannot trace ${func}`);
  }
  const path = lockPath();
  mkdirSync(dirname(path), { recursive: true });
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const other = readLock(path);
    throw new LbcError('LBC_ERR_GRAPH_BUSY', `${path} says lbc graph (pid ${other?.pid ?? '?'}) holds the top-level tracer`, { lock: path, pid: other?.pid });
  }
  const current = read(root, 'current_tracer').trim();
  if (current !== 'nop') {
    closeSync(fd);
    rmSync(path, { force: true });
    throw new LbcError('LBC_ERR_GRAPH_BUSY', `the top-level tracer is '${current}' (${root}/current_tracer), in use by something else; lbc graph does not replace it`, { current });
  }
  const saved = saveTopLevel(root);
  writeSync(fd, JSON.stringify({ pid: process.pid, saved } satisfies LockFile));
  closeSync(fd);
  return { dir: '', shared: true, saved };
}

export function releaseGraphPlace(root: string, place: GraphPlace): void {
  if (!place.shared) {
    for (const [path, text] of [['tracing_on', '0'], ['current_tracer', 'nop']] as const) {
      try {
        perform(root, { op: 'write', path: `${place.dir}${path}`, text });
      } catch {
        // Keep going: the instance must still go.
      }
    }
    try {
      rmdirSync(`${root}/${place.dir.replace(/\/$/, '')}`);
    } catch {
      // Swept by the next run.
    }
    return;
  }
  restoreTopLevel(root, place.saved!);
  const lock = readLock(lockPath());
  if (lock?.pid === process.pid) rmSync(lockPath(), { force: true });
}
