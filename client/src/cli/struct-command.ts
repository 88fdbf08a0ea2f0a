/**
 * `lbc struct NAME`: a struct's layout as pahole prints it — members with byte offsets and sizes,
 * holes, padding, cachelines — from the service's catalog of the kernel.
 */
import type { Command } from 'commander';
import type { StructLayout, StructMember } from '@lbc/contract';
import { catalogOptions, printJson, reportCatalogError, withCatalog, type CatalogFlags } from './catalog-kernel.ts';

interface StructFlags extends CatalogFlags {
  expand?: boolean;
}

export function registerStruct(program: Command): void {
  catalogOptions(program.command('struct'))
    .description("a kernel struct or union's layout, like pahole: offsets, sizes, holes")
    .argument('<name>', 'struct or union name, e.g. task_struct')
    .option('-E, --expand', 'expand named nested structs too (like pahole -E / gdb ptype /o)')
    .action(async (name: string, flags: StructFlags) => {
      try {
        const layout = await withCatalog(flags, (client, kernel) => client.struct(kernel, name));
        if (flags.json) printJson(layout);
        else process.stdout.write(formatStruct(layout, { expand: flags.expand ?? false }));
      } catch (err) {
        reportCatalogError(err);
      }
    });
}

interface Node {
  member: StructMember;
  children: Node[];
}

/** The flattened member list (depth-first) back into a tree. */
function treeOf(members: StructMember[]): Node[] {
  const roots: Node[] = [];
  const stack: Node[] = [];
  for (const member of members) {
    const node = { member, children: [] };
    while (stack.length > member.depth) stack.pop();
    (stack.length ? stack[stack.length - 1]!.children : roots).push(node);
    stack.push(node);
  }
  return roots;
}

const COMMENT_COLUMN = 48;

function position(m: StructMember): string {
  const where = m.bitSize ? `${m.offset}:${m.bitOffset - m.offset * 8}` : String(m.offset);
  return `/* ${where.padStart(6)} ${String(m.size).padStart(5)} */`;
}

function line(indent: number, text: string, m?: StructMember): string {
  const tabs = '\t'.repeat(indent);
  if (!m) return `${tabs}${text}\n`;
  const width = Math.max(1, COMMENT_COLUMN - indent * 8 - text.length);
  return `${tabs}${text}${' '.repeat(width)}${position(m)}\n`;
}

function render(nodes: Node[], indent: number, expand: boolean): string {
  let out = '';
  for (const { member: m, children } of nodes) {
    // Anonymous types cannot be looked up by name, so they are always shown in place.
    const open = children.length > 0 && (!m.name || expand || m.type.endsWith('{...}'));
    if (open) {
      // `union {...}` / `struct rb_node` → opening line `union {` / `struct rb_node {`.
      const opener = m.type.replace(/ \{\.\.\.\}$/, '');
      out += line(indent, `${opener} {`);
      out += render(children, indent + 1, expand);
      out += line(indent, `}${m.name ? ` ${m.name}` : ''};`, m);
    } else {
      out += line(indent, `${m.decl};`, m);
    }
    if (m.bitHoleAfter) out += `\n${line(indent, `/* XXX ${m.bitHoleAfter} bit${m.bitHoleAfter === 1 ? '' : 's'} hole, try to pack */`)}`;
    if (m.holeAfter) out += `\n${line(indent, `/* XXX ${m.holeAfter} byte${m.holeAfter === 1 ? '' : 's'} hole, try to pack */`)}\n`;
  }
  return out;
}

export function formatStruct(layout: StructLayout, opts: { expand: boolean }): string {
  let out = `${layout.kind} ${layout.name} {\n`;
  out += render(treeOf(layout.members), 1, opts.expand);
  out += '\n';
  out += line(1, `/* size: ${layout.size}, cachelines: ${layout.cachelines}, members: ${layout.memberCount} */`);
  if (layout.holes) out += line(1, `/* holes: ${layout.holes}, sum holes: ${layout.holeBytes} */`);
  if (layout.padding) out += line(1, `/* padding: ${layout.padding} */`);
  out += '};\n';
  return out;
}
