import { Command } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { startCli } from './start.ts';
import { registerCompile } from './compile-command.ts';
import { registerKernels } from './kernels-command.ts';
import { registerStruct } from './struct-command.ts';
import { registerFunc } from './func-command.ts';
import { registerTypes } from './types-command.ts';
import { registerInspect } from './inspect-command.ts';
import { registerRun } from './run-command.ts';
import { registerTrace } from './trace-command.ts';
import { registerVerify } from './verify-command.ts';
import { registerGraph } from './graph-command.ts';

const program = new Command('lbc')
  .description('lbc: compile eBPF programs on a remote farm and run them here')
  .version(pkg.version, '-V, --version')
  .showHelpAfterError();

registerCompile(program);
registerRun(program);
registerKernels(program);
registerStruct(program);
registerFunc(program);
registerTypes(program);
registerInspect(program);
registerTrace(program);
registerVerify(program);
registerGraph(program);

startCli(program);
