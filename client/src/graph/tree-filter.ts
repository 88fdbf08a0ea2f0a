/** --depth, --include, --exclude and --duration-min applied to call trees, the same for both engines. */
import type { CallNode, GraphCall } from './call-tree.ts';

/** A shell glob (`*`, `?`, `[abc]`) on a whole function name. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export interface TreeFilter {
  /** Deepest level shown; the traced function is 0. */
  depth?: number;
  include?: string[];
  exclude?: string[];
  /** Calls of the traced function shorter than this are left out, ns. */
  durationMinNs?: number;
}

export function matcher(globs: string[] | undefined): ((name: string) => boolean) | undefined {
  if (!globs?.length) return undefined;
  const res = globs.map(globToRegExp);
  // Compiler clones (getname_flags.part.0, .isra.0, .constprop.0) match as their function.
  return (name) => res.some((r) => r.test(name) || r.test(name.replace(/\..*$/, '')));
}

/**
 * The call with what the filter keeps, or undefined when the whole call is left out. Excluded
 * functions go with everything under them; with --include, a callee stays when it or something
 * under it matches (the path to a match is kept, so the nesting still reads).
 */
export function filterCall(call: GraphCall, f: TreeFilter): GraphCall | undefined {
  if (f.durationMinNs !== undefined && (call.root.durationNs ?? Infinity) < f.durationMinNs) return undefined;
  const include = matcher(f.include);
  const exclude = matcher(f.exclude);
  const keep = (n: CallNode): CallNode | undefined => {
    if (n.depth > 0 && exclude?.(n.func)) return undefined;
    if (f.depth !== undefined && n.depth > f.depth) return undefined;
    const children = n.children.map(keep).filter((c): c is CallNode => c !== undefined);
    if (n.depth > 0 && include && !include(n.func) && children.length === 0) return undefined;
    return { ...n, children };
  };
  return { ...call, root: keep(call.root)! };
}
