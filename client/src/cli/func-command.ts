/**
 * `lbc func NAME`: a kernel function's prototype. A name with wildcards (`tcp_%`, `*_open`), or
 * --returns / --arg-type, searches instead and prints one prototype per line.
 */
import type { Command } from 'commander';
import { LbcError } from '@lbc/contract';
import { catalogOptions, printJson, reportCatalogError, withCatalog, type CatalogFlags } from './catalog-kernel.ts';

interface FuncFlags extends CatalogFlags {
  returns?: string;
  argType?: string;
  limit?: string;
}

const isPattern = (name: string) => /[%*?]/.test(name);

export function registerFunc(program: Command): void {
  catalogOptions(program.command('func'))
    .description("a kernel function's prototype from BTF; with wildcards (% or *), a search")
    .argument('[name]', 'function name (do_filp_open) or pattern (tcp_%)')
    .option('--returns <type>', "only functions returning this C type, e.g. 'int' or 'struct sock *' (% wildcard)")
    .option('--arg-type <type>', "only functions taking a parameter of this C type (% wildcard)")
    .option('--limit <n>', 'at most this many functions (default 200)')
    .action(async (name: string | undefined, flags: FuncFlags) => {
      try {
        if (!name && !flags.returns && !flags.argType) throw new LbcError('LBC_ERR_BAD_REQUEST', 'give a function name or pattern, --returns or --arg-type');
        if (name && !isPattern(name) && !flags.returns && !flags.argType) {
          const f = await withCatalog(flags, (client, kernel) => client.func(kernel, name));
          if (flags.json) printJson(f);
          else process.stdout.write(`${f.proto};\n`);
          return;
        }
        const limit = flags.limit === undefined ? undefined : Number(flags.limit);
        if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new LbcError('LBC_ERR_BAD_REQUEST', `--limit must be a positive integer, got ${JSON.stringify(flags.limit)}`);
        const found = await withCatalog(flags, (client, kernel) => client.searchFuncs(kernel, { like: name, returns: flags.returns, argType: flags.argType, limit }));
        if (flags.json) {
          printJson(found);
          return;
        }
        process.stdout.write(found.funcs.map((f) => `${f.proto};\n`).join(''));
        if (found.truncated) process.stderr.write(`(more than ${found.funcs.length} functions match: narrow the pattern or raise --limit)\n`);
        if (found.funcs.length === 0) process.stderr.write('no function matches\n');
      } catch (err) {
        reportCatalogError(err);
      }
    });
}
