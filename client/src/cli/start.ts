import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import type { Command } from 'commander';
import { warmUpCompileAnswer, warmUpForSnapshot } from './snapshot-warmup.ts';
import { endQuietlyOnClosedPipe } from './closed-pipe.ts';
import { restoreLauncherEnv } from './launcher-env.ts';

declare global {
  /** Where the CLI runs from when it starts from its snapshot (which has no import.meta of its own). */
  var __lbcModuleUrl: string | undefined;
}

/**
 * Parses the command line now, or, while `node --build-snapshot` captures the CLI (see
 * client/scripts/build.mjs), when a process starts from that snapshot: every module is then already
 * loaded and evaluated, and only the command itself runs.
 */
export function startCli(program: Command): void {
  if (!v8.startupSnapshot.isBuildingSnapshot()) {
    globalThis.__lbcCliProcess = true;
    restoreLauncherEnv();
    endQuietlyOnClosedPipe();
    void program.parseAsync(process.argv);
    return;
  }
  warmUpForSnapshot();
  // Settled before the snapshot is taken (node runs the event loop dry first); a failure fails the build.
  void warmUpCompileAnswer();
  v8.startupSnapshot.setDeserializeMainFunction(() => {
    // `node --snapshot-blob lbc.blob dist/cli.js ARGS`: argv[1] names the build the snapshot belongs to.
    globalThis.__lbcModuleUrl = pathToFileURL(resolve(process.argv[1]!)).href;
    globalThis.__lbcCliProcess = true;
    restoreLauncherEnv();
    endQuietlyOnClosedPipe();
    void program.parseAsync(process.argv);
  });
}
