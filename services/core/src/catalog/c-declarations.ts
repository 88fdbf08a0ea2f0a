/**
 * C spellings of BTF types, the way a header would write them: `char[16]`, `const char *`,
 * `void (*)(struct rcu_head *)`, `int do_filp_open(int dfd, struct filename *pathname, ...)`.
 * C declarators grow outwards from the name, so each type wraps the declarator built so far.
 */
import type { Btf } from '@lbc/btf';

const MAX_DEPTH = 64;

export class CDeclarations {
  private readonly names = new Map<number, string>();

  constructor(private readonly btf: Btf) {}

  /** The type alone, as in a cast: `struct sock *`. Memoised: the same ids recur across thousands of members. */
  typeName(id: number): string {
    let name = this.names.get(id);
    if (name === undefined) {
      name = this.declare(id, '');
      this.names.set(id, name);
    }
    return name;
  }

  /** A declaration of `name` with type `id`: `char comm[16]`, `void (*func)(struct callback_head *)`. */
  declare(id: number, name: string, depth = 0): string {
    if (depth > MAX_DEPTH) return `/* type ${id}: too deep */ ${name}`.trim();
    const t = this.btf.type(id);
    switch (t.kind) {
      case 'void':
        return join('void', name);
      case 'int': case 'float': case 'typedef':
        return join(t.name, name);
      case 'struct': case 'union': case 'enum':
        return join(t.name ? `${t.kind} ${t.name}` : `${t.kind} {...}`, name);
      case 'fwd':
        return join(`${t.union ? 'union' : 'struct'} ${t.name}`, name);
      case 'ptr': {
        const target = this.skipTags(t.type);
        const wrapsDeclarator = target.kind === 'array' || target.kind === 'func_proto';
        return this.declare(t.type, wrapsDeclarator ? `(*${name})` : `*${name}`, depth + 1);
      }
      case 'const': case 'volatile': case 'restrict': {
        // `char *const p`: a qualified pointer qualifies the declarator; anything else, the base type.
        if (this.skipTags(t.type).kind === 'ptr') return this.declare(t.type, name ? `${t.kind} ${name}` : t.kind, depth + 1);
        return `${t.kind} ${this.declare(t.type, name, depth + 1)}`;
      }
      case 'type_tag':
        return this.declare(t.type, name, depth + 1);
      case 'array':
        return this.declare(t.type, `${name}[${t.length}]`, depth + 1);
      case 'func_proto':
        return this.declare(t.type, `${name}(${this.paramList(t.params, depth + 1)})`, depth + 1);
      case 'func':
        return this.declare(t.type, t.name, depth + 1);
      default:
        return join(`${t.kind} ${t.name}`.trim(), name);
    }
  }

  /** `(int dfd, struct filename *pathname)`, `(void)`, `(const char *fmt, ...)`. */
  paramList(params: readonly { name: string; type: number }[], depth = 0): string {
    if (params.length === 0) return 'void';
    return params.map((p) => (p.type === 0 && !p.name ? '...' : this.declare(p.type, p.name, depth))).join(', ');
  }

  private skipTags(id: number) {
    let t = this.btf.type(id);
    for (let i = 0; t.kind === 'type_tag' && i < MAX_DEPTH; i++) t = this.btf.type(t.type);
    return t;
  }
}

/** Base type and declarator: `char` + `*p` → `char *p`, `char` + `[16]` → `char[16]`. */
function join(base: string, declarator: string): string {
  if (!declarator) return base;
  if (declarator.startsWith('[')) return base + declarator;
  if (declarator.startsWith('(') && !declarator.startsWith('(*')) return base + declarator;
  return `${base} ${declarator}`;
}
