/**
 * `lbc type NAME`: what a type name means in a kernel — a typedef's chain down to its base type,
 * an enum's values, a struct's size (its layout is `lbc struct`).
 */
import type { Command } from 'commander';
import type { TypeInfo } from '@lbc/contract';
import { catalogOptions, printJson, reportCatalogError, withCatalog, type CatalogFlags } from './catalog-kernel.ts';

export function registerTypes(program: Command): void {
  catalogOptions(program.command('type').alias('types'))
    .description('a kernel type by name: typedef chain, enum values, struct/union size')
    .argument('<name>', "type name: pid_t, 'struct sock', 'enum bpf_map_type', or an enumerator")
    .action(async (name: string, flags: CatalogFlags) => {
      try {
        const found = await withCatalog(flags, (client, kernel) => client.types(kernel, name));
        if (flags.json) printJson(found);
        else process.stdout.write(found.types.map(formatType).join('\n'));
      } catch (err) {
        reportCatalogError(err);
      }
    });
}

export function formatType(t: TypeInfo): string {
  const size = t.size === null ? '' : ` /* size: ${t.size} */`;
  switch (t.kind) {
    case 'typedef':
      return `typedef ${(t.resolvesTo ?? []).slice(0, 1).join('')} ${t.name};${size}${(t.resolvesTo ?? []).length > 1 ? `\n\t/* ${[t.name, ...(t.resolvesTo ?? [])].join(' -> ')} */` : ''}\n`;
    case 'enum':
      return `${t.c} {${size}\n${(t.values ?? []).map((v) => `\t${v.name} = ${v.value},\n`).join('')}};\n`;
    case 'struct':
    case 'union':
      return `${t.c};${size} /* members: ${t.memberCount ?? 0}; layout: lbc struct ${t.name} */\n`;
    default:
      return `${t.c};${size} /* ${t.kind} */\n`;
  }
}
