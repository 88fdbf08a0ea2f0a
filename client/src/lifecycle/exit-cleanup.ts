/**
 * One set of process hooks for every live BPF object: links and buffers must be released on exit
 * and on Ctrl-C, however many Lbc instances exist. Hooks are installed with the first instance and
 * removed with the last, so a process with nothing loaded keeps Node's default signal behaviour.
 */
export interface Closable {
  close(): void;
}

const live = new Set<Closable>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function closeAll(): void {
  for (const c of [...live]) {
    try {
      c.close();
    } catch {
      // Exiting anyway: one failed close must not keep the others loaded.
    }
  }
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  closeAll();
  uninstall();
  // If the program listens for the signal itself, it decides what happens; otherwise behave as if we were never here.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  process.on('exit', closeAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  process.off('exit', closeAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

export function trackForExit(c: Closable): void {
  if (live.size === 0) install();
  live.add(c);
}

export function untrackForExit(c: Closable): void {
  if (!live.delete(c)) return;
  if (live.size === 0) uninstall();
}

export function liveCount(): number {
  return live.size;
}
