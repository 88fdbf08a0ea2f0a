/**
 * lbc-admin: operator commands that work on a farm's data directory (LBC_DATA_DIR or --data-dir)
 * directly, so they also work before the first admin token exists. One file per subcommand.
 */
import { Command } from 'commander';
import { isLbcError } from '@lbc/contract';
import { tokenCommand } from './token-command.ts';
import { ingestCommand } from './ingest-command.ts';

const program = new Command('lbc-admin')
  .description('lbc compile farm administration')
  .option('--data-dir <dir>', 'the farm data directory (env LBC_DATA_DIR, default ./.data)')
  .showHelpAfterError();

program.addCommand(tokenCommand(() => program.opts<{ dataDir?: string }>().dataDir));
program.addCommand(ingestCommand(() => program.opts<{ dataDir?: string }>().dataDir));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`${isLbcError(err) ? err.format() : (err as Error).message}\n`);
  process.exit(1);
}
