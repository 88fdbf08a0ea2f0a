/**
 * C spellings of BTF types, the way a header would write them: `char[16]`, `const char *`,
 * `void (*)(struct rcu_head *)`, `int do_filp_open(int dfd, struct filename *pathname, ...)`.
 * C declarators grow outwards from the name, so each type wraps the declarator built so far.
 */
import type { Btf } from '@lbc/btf';

const MAX_DEPTH = 64;
/**
 * Bounds for hostile BTF: function-pointer parameters can nest so that a spelling doubles at
 * every level. Past these, a spelling is cut short ("...") instead of growing without limit.
 */
const MAX_STEPS = 5_000;
const MAX_SPELLING = 2_048;

export class CDeclarations {
  private readonly names = new Map<number, string>();
  private steps = 0;

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
  declare(id: number, name: string): string {
    this.steps = 0;
    return this.decl(id, name, 0);
  }

  private decl(id: number, name: string, depth: number): string {
    if (depth > MAX_DEPTH || ++this.steps > MAX_STEPS) return `/* type ${id}: too complex */ ${name}`.trim();
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
        return this.decl(t.type, wrapsDeclarator ? `(*${name})` : `*${name}`, depth + 1);
      }
      case 'const': case 'volatile': case 'restrict': {
        // `char *const p`: a qualified pointer qualifies the declarator; anything else, the base type.
        if (this.skipTags(t.type).kind === 'ptr') return this.decl(t.type, name ? `${t.kind} ${name}` : t.kind, depth + 1);
        return `${t.kind} ${this.decl(t.type, name, depth + 1)}`;
      }
      case 'type_tag':
        return this.decl(t.type, name, depth + 1);
      case 'array':
        return this.decl(t.type, `${name}[${t.length}]`, depth + 1);
      case 'func_proto':
        return this.decl(t.type, `${name}(${this.paramList(t.params, depth + 1)})`, depth + 1);
      case 'func':
        return this.decl(t.type, t.name, depth + 1);
      default:
        return join(`${t.kind} ${t.name}`.trim(), name);
    }
  }

  /** `(int dfd, struct filename *pathname)`, `(void)`, `(const char *fmt, ...)`. */
  private paramList(params: readonly { name: string; type: number }[], depth: number): string {
    if (params.length === 0) return 'void';
    let out = '';
    for (const p of params) {
      if (out.length > MAX_SPELLING) return `${out}, ...`;
      // Unnamed parameters (function pointer types) reuse the memoised spelling of their type.
      const one = p.type === 0 && !p.name ? '...' : p.name ? this.decl(p.type, p.name, depth) : this.names.get(p.type) ?? this.decl(p.type, '', depth);
      out += out ? `, ${one}` : one;
    }
    return out;
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
