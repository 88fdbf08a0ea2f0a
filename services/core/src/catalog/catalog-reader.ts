/**
 * Queries over one kernel's catalog file (read-only): struct layouts, function prototypes,
 * function search, and type look-ups, each answering a name it does not know with
 * LBC_ERR_*_NOT_FOUND and the nearest names it does.
 */
import Database from 'better-sqlite3';
import { LbcError, type FuncPrototype, type FuncSearchQuery, type FuncSearchResult, type StructLayout, type StructMember, type TypeInfo, type TypeLookup } from '@lbc/contract';
import { suggestNames } from './did-you-mean.ts';
import { namePattern, normalizeCType, typePattern } from './c-patterns.ts';

interface TypeRow {
  id: number;
  kind: TypeInfo['kind'];
  name: string;
  c: string;
  size: number | null;
  target: number | null;
  resolves_to: string | null;
  members: number | null;
  holes: number | null;
  hole_bytes: number | null;
  padding: number | null;
  truncated: number | null;
}

interface MemberRow {
  path: string;
  name: string;
  depth: number;
  type: string;
  decl: string;
  kind: string;
  offset: number;
  bit_offset: number;
  bit_size: number;
  size: number;
  hole_after: number;
  bit_hole_after: number;
}

interface FuncRow {
  id: number;
  name: string;
  linkage: string;
  returns: string;
  variadic: number;
  proto: string;
}

export const FUNC_SEARCH_MAX = 1000;
const FUNC_SEARCH_DEFAULT = 200;
const CACHELINE = 64;

/** `struct task_struct` → { tag: 'struct', name: 'task_struct' }. */
function splitTag(spelling: string): { tag?: 'struct' | 'union' | 'enum'; name: string } {
  const m = /^\s*(struct|union|enum)\s+(\S+)\s*$/.exec(spelling);
  return m ? { tag: m[1] as 'struct' | 'union' | 'enum', name: m[2]! } : { name: spelling.trim() };
}

export class CatalogReader {
  private readonly db: Database.Database;
  /** Prepared once per SQL text: preparing costs more than running these small indexed queries. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    path: string,
    /** The kernel's BTF sha256, echoed in every answer. */
    readonly kernel: string,
  ) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
  }

  close(): void {
    this.db.close();
  }

  private sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  meta(): Record<string, string> {
    const rows = this.sql('SELECT key, value FROM meta').all() as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  /** A struct or union by name (`task_struct`, `struct task_struct`, or a typedef naming one). */
  struct(spelling: string, opts: { maxDepth?: number } = {}): StructLayout {
    const { tag, name } = splitTag(spelling);
    const row = this.findComposite(name, tag === 'enum' ? undefined : tag);
    if (!row) {
      const suggestions = this.suggest(name, "SELECT DISTINCT name FROM types WHERE kind IN ('struct', 'union') AND name != ''");
      throw new LbcError('LBC_ERR_STRUCT_NOT_FOUND', `${spelling} in kernel ${this.kernel.slice(0, 12)}`, { name: spelling, kernel: this.kernel, suggestions });
    }
    const depthClause = opts.maxDepth === undefined ? '' : ' AND depth <= ?';
    const args: unknown[] = opts.maxDepth === undefined ? [row.id] : [row.id, opts.maxDepth];
    const members = (this.sql(`SELECT * FROM members WHERE type_id = ?${depthClause} ORDER BY seq`).all(...args) as MemberRow[]).map(toMember);
    const size = row.size ?? 0;
    return {
      kernel: this.kernel,
      kind: row.kind as 'struct' | 'union',
      name: row.name || name,
      size,
      memberCount: row.members ?? 0,
      holes: row.holes ?? 0,
      holeBytes: row.hole_bytes ?? 0,
      padding: row.padding ?? 0,
      cachelines: Math.ceil(size / CACHELINE),
      members,
      ...(row.truncated ? { truncated: true } : {}),
    };
  }

  func(name: string): FuncPrototype {
    const row = this.sql('SELECT * FROM funcs WHERE name = ? ORDER BY linkage = \'static\', id LIMIT 1').get(name.trim()) as FuncRow | undefined;
    if (!row) {
      const suggestions = this.suggest(name.trim(), 'SELECT DISTINCT name FROM funcs');
      throw new LbcError('LBC_ERR_FUNC_NOT_FOUND', `${name} in kernel ${this.kernel.slice(0, 12)}`, { name, kernel: this.kernel, suggestions });
    }
    return this.toPrototype(row);
  }

  /** Functions by name pattern, return type and/or a parameter's type; one row per distinct prototype. */
  searchFuncs(q: FuncSearchQuery): FuncSearchResult {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.like) {
      where.push('f.name GLOB ?');
      args.push(namePattern(q.like));
    }
    if (q.returns) {
      where.push(q.returns.includes('%') ? 'f.returns GLOB ?' : 'f.returns = ?');
      args.push(q.returns.includes('%') ? typePattern(q.returns) : normalizeCType(q.returns));
    }
    if (q.argType) {
      // Driven from the parameter-type index: far fewer functions take a type than return int.
      where.push(`f.id IN (SELECT func_id FROM params WHERE type ${q.argType.includes('%') ? 'GLOB' : '='} ?)`);
      args.push(q.argType.includes('%') ? typePattern(q.argType) : normalizeCType(q.argType));
    }
    const limit = Math.min(Math.max(1, q.limit ?? FUNC_SEARCH_DEFAULT), FUNC_SEARCH_MAX);
    const sql = `SELECT f.* FROM funcs f ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY f.name, f.proto ORDER BY f.name, f.proto LIMIT ?`;
    const rows = this.sql(sql).all(...args, limit + 1) as FuncRow[];
    return { kernel: this.kernel, funcs: rows.slice(0, limit).map((r) => this.toPrototype(r)), truncated: rows.length > limit };
  }

  /** Every type of that name: `pid_t` (typedef), `struct sock`, `enum bpf_map_type`, or the enum holding an enumerator. */
  types(spelling: string): TypeLookup {
    const { tag, name } = splitTag(spelling);
    let rows = (tag
      ? this.sql('SELECT * FROM types WHERE name = ? AND kind = ? ORDER BY id').all(name, tag)
      : this.sql('SELECT * FROM types WHERE name = ? ORDER BY id').all(name)) as TypeRow[];
    if (rows.length === 0 && !tag) {
      rows = this.sql('SELECT t.* FROM enum_values v JOIN types t ON t.id = v.type_id WHERE v.name = ? ORDER BY t.id').all(name) as TypeRow[];
    }
    if (rows.length === 0) {
      const suggestions = this.suggest(name, "SELECT DISTINCT name FROM types WHERE name != ''");
      throw new LbcError('LBC_ERR_TYPE_NOT_FOUND', `${spelling} in kernel ${this.kernel.slice(0, 12)}`, { name: spelling, kernel: this.kernel, suggestions });
    }
    return { kernel: this.kernel, name: spelling, types: dedupe(rows).map((r) => this.toTypeInfo(r)) };
  }

  private findComposite(name: string, tag?: 'struct' | 'union'): TypeRow | undefined {
    const kinds = tag ? [tag] : ['struct', 'union'];
    // Duplicate names happen (BTF dedup keeps variants): the one with the most members is the real one.
    const direct = this
      .sql(`SELECT * FROM types WHERE name = ? AND kind IN (${kinds.map(() => '?').join(', ')}) ORDER BY members DESC, id LIMIT 1`)
      .get(name, ...kinds) as TypeRow | undefined;
    if (direct || tag) return direct;
    const typedef = this.sql("SELECT target FROM types WHERE name = ? AND kind = 'typedef' ORDER BY id LIMIT 1").get(name) as { target: number } | undefined;
    if (!typedef) return undefined;
    const target = this.sql("SELECT * FROM types WHERE id = ? AND kind IN ('struct', 'union')").get(typedef.target) as TypeRow | undefined;
    return target ? { ...target, name: target.name || name } : undefined;
  }

  private toPrototype(row: FuncRow): FuncPrototype {
    const params = this.sql('SELECT name, type FROM params WHERE func_id = ? ORDER BY idx').all(row.id) as { name: string; type: string }[];
    return { kernel: this.kernel, name: row.name, linkage: row.linkage, returns: row.returns, params, variadic: row.variadic === 1, proto: row.proto };
  }

  private toTypeInfo(row: TypeRow): TypeInfo {
    const info: TypeInfo = { kind: row.kind, name: row.name, c: row.c, size: row.size };
    if (row.kind === 'typedef' && row.resolves_to) info.resolvesTo = JSON.parse(row.resolves_to) as string[];
    if (row.kind === 'enum') info.values = this.sql('SELECT name, value FROM enum_values WHERE type_id = ? ORDER BY seq').all(row.id) as { name: string; value: string }[];
    if (row.kind === 'struct' || row.kind === 'union') info.memberCount = row.members ?? 0;
    return info;
  }

  private suggest(name: string, namesSql: string): string[] {
    const pattern = `*${name.replace(/[[*?]/g, (ch) => `[${ch}]`)}*`;
    const containing = (this.sql(`SELECT name FROM (${namesSql}) WHERE name GLOB ? ORDER BY length(name) LIMIT 5`).all(pattern) as { name: string }[]).map((r) => r.name);
    const similar = (this.sql(`SELECT name FROM (${namesSql}) WHERE length(name) BETWEEN ? AND ?`).all(name.length - 3, name.length + 3) as { name: string }[]).map((r) => r.name);
    return suggestNames(name, similar, containing);
  }
}

function toMember(r: MemberRow): StructMember {
  return {
    name: r.name,
    path: r.path,
    depth: r.depth,
    type: r.type,
    decl: r.decl,
    kind: r.kind,
    offset: r.offset,
    bitOffset: r.bit_offset,
    bitSize: r.bit_size,
    size: r.size,
    holeAfter: r.hole_after,
    bitHoleAfter: r.bit_hole_after,
  };
}

/** Identical definitions of one name (BTF keeps some duplicates) are shown once. */
function dedupe(rows: TypeRow[]): TypeRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const key = `${r.kind}\0${r.name}\0${r.size}\0${r.members}\0${r.resolves_to}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
