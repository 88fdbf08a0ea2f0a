/**
 * `lbc graph FUNC -- COMMAND`: the command is started stopped (a shell that stops itself before it
 * execs), so its pid can be put in the filters before it runs a single instruction of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LbcError } from '@lbc/contract';

function state(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

export interface StoppedCommand {
  child: ChildProcess;
  pid: number;
  exited: Promise<number>;
  resume(): void;
}

export async function spawnStopped(argv: string[]): Promise<StoppedCommand> {
  const child = spawn('/bin/sh', ['-c', 'kill -STOP $$; exec "$@"', 'lbc-graph', ...argv], { stdio: 'inherit' });
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? ({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 1 : 1))));
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (spawned || child.pid === undefined) throw new LbcError('LBC_ERR_BAD_REQUEST', `cannot start ${argv[0]}: ${spawned?.message ?? 'no pid'}`);
  const pid = child.pid;
  for (const end = Date.now() + 10_000; state(pid) !== 'T'; ) {
    if (Date.now() > end || child.exitCode !== null) throw new LbcError('LBC_ERR_BAD_REQUEST', `${argv[0]} did not start (its shell never stopped itself)`);
    await sleep(2);
  }
  return { child, pid, exited, resume: () => process.kill(pid, 'SIGCONT') };
}
