/**
 * Indexes one kernel's BTF into a catalog file: structs and unions with their flattened layouts,
 * typedefs, enums, and function prototypes. Synchronous and CPU-bound (a vmlinux BTF takes
 * seconds), so the service runs it in a worker thread (catalog-worker.ts); the file is written
 * under a temporary name in one transaction and renamed into place, so it is whole or absent.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { parseBtf, type Btf, type BtfType } from '@lbc/btf';
import { ownerTag } from '../owner-alive.ts';
import { CDeclarations } from './c-declarations.ts';
import { CATALOG_SCHEMA, CATALOG_SCHEMA_VERSION } from './catalog-schema.ts';
import { StructLayouts, isComposite } from './struct-layout.ts';

export interface CatalogBuildStats {
  types: number;
  structs: number;
  members: number;
  funcs: number;
  enums: number;
  typedefs: number;
  /** Milliseconds: parsing the BTF, and writing the SQLite file. */
  parseMs: number;
  writeMs: number;
}

const LINKAGE = ['static', 'global', 'extern'];
const INDEXED_KINDS = new Set(['struct', 'union', 'enum', 'typedef', 'int', 'float', 'fwd']);

export function buildCatalogFile(btfBytes: Buffer, outPath: string, btfSha256: string): CatalogBuildStats {
  const t0 = performance.now();
  const btf = parseBtf(btfBytes);
  const t1 = performance.now();
  const temp = join(dirname(outPath), `.${btfSha256}.${ownerTag()}.${randomBytes(4).toString('hex')}.tmp`);
  const db = new Database(temp);
  try {
    // A private temp file renamed when complete: no journal or fsync needed while writing it.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(CATALOG_SCHEMA);
    const stats = db.transaction(() => writeCatalog(db, btf, btfSha256))();
    db.close();
    renameSync(temp, outPath);
    return { ...stats, parseMs: Math.round(t1 - t0), writeMs: Math.round(performance.now() - t1) };
  } catch (err) {
    if (db.open) db.close();
    rmSync(temp, { force: true });
    throw err;
  }
}

function writeCatalog(db: Database.Database, btf: Btf, btfSha256: string): Omit<CatalogBuildStats, 'parseMs' | 'writeMs'> {
  const c = new CDeclarations(btf);
  const layouts = new StructLayouts(btf, c);
  const insertType = db.prepare('INSERT INTO types (id, kind, name, c, size, target, resolves_to, members, holes, hole_bytes, padding, truncated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insertMember = db.prepare(
    'INSERT INTO members (type_id, seq, depth, path, name, type, decl, kind, offset, bit_offset, bit_size, size, hole_after, bit_hole_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertValue = db.prepare('INSERT INTO enum_values (type_id, seq, name, value) VALUES (?, ?, ?, ?)');
  const insertFunc = db.prepare('INSERT INTO funcs (id, name, linkage, returns, variadic, proto) VALUES (?, ?, ?, ?, ?, ?)');
  const insertParam = db.prepare('INSERT INTO params (func_id, idx, name, type) VALUES (?, ?, ?, ?)');
  const stats = { types: 0, structs: 0, members: 0, funcs: 0, enums: 0, typedefs: 0 };

  // Anonymous structs/unions count only when a typedef names them (`typedef struct {...} atomic_t`).
  const typedefTargets = new Set<number>();
  for (const t of btf.types) {
    if (t.kind !== 'typedef') continue;
    const target = resolveSafe(btf, t.type);
    if (target && isComposite(target) && !target.name) typedefTargets.add(target.id);
  }

  for (const t of btf.types) {
    if (!INDEXED_KINDS.has(t.kind)) continue;
    if (!t.name && !typedefTargets.has(t.id)) continue;
    stats.types++;
    if (isComposite(t)) {
      const l = layouts.layout(t);
      insertType.run(t.id, t.kind, t.name, c.typeName(t.id), t.size, null, null, l.memberCount, l.holes, l.holeBytes, l.padding, l.truncated ? 1 : 0);
      l.members.forEach((m, seq) => {
        insertMember.run(t.id, seq, m.depth, m.path, m.name, m.type, m.decl, m.kind, m.offset, m.bitOffset, m.bitSize, m.size, m.holeAfter, m.bitHoleAfter);
      });
      stats.structs++;
      stats.members += l.members.length;
    } else if (t.kind === 'enum') {
      insertType.run(t.id, 'enum', t.name, c.typeName(t.id), t.size, null, null, null, null, null, null, null);
      t.values.forEach((v, seq) => insertValue.run(t.id, seq, v.name, v.value.toString()));
      stats.enums++;
    } else if (t.kind === 'typedef') {
      const chain = typedefChain(btf, c, t.type);
      insertType.run(t.id, 'typedef', t.name, t.name, sizeSafe(btf, t.id), chain.target, JSON.stringify(chain.spellings), null, null, null, null, null);
      stats.typedefs++;
    } else {
      const size = t.kind === 'int' || t.kind === 'float' ? t.size : null;
      insertType.run(t.id, t.kind, t.name, c.typeName(t.id), size, null, null, null, null, null, null, null);
    }
  }

  for (const f of btf.types) {
    if (f.kind !== 'func') continue;
    const proto = btf.type(f.type);
    if (proto.kind !== 'func_proto') continue;
    const params = proto.params;
    const variadic = params.length > 0 && params[params.length - 1]!.type === 0;
    insertFunc.run(f.id, f.name, LINKAGE[f.linkage] ?? String(f.linkage), c.typeName(proto.type), variadic ? 1 : 0, c.declare(f.id, f.name));
    params.forEach((p, idx) => {
      if (p.type === 0) return;
      insertParam.run(f.id, idx, p.name, c.typeName(p.type));
    });
    stats.funcs++;
  }

  const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  meta.run('schema_version', String(CATALOG_SCHEMA_VERSION));
  meta.run('btf_sha256', btfSha256);
  meta.run('btf_types', String(btf.count));
  for (const [k, v] of Object.entries(stats)) meta.run(k, String(v));
  return stats;
}

/** `pid_t` → ['__kernel_pid_t', 'int']: each typedef's spelling down to the type with a layout. */
function typedefChain(btf: Btf, c: CDeclarations, first: number): { target: number; spellings: string[] } {
  const spellings: string[] = [];
  let id = first;
  for (let depth = 0; depth < 64; depth++) {
    spellings.push(c.typeName(id));
    const t = btf.type(id);
    if (t.kind !== 'typedef' && t.kind !== 'const' && t.kind !== 'volatile' && t.kind !== 'restrict' && t.kind !== 'type_tag') break;
    id = t.type;
  }
  // Qualifiers repeat the spelling of what they qualify; keep the typedef steps and the end.
  return { target: id, spellings: spellings.filter((s, i) => i === spellings.length - 1 || !/^(const|volatile|restrict) /.test(s)) };
}

function resolveSafe(btf: Btf, id: number): BtfType | undefined {
  try {
    return btf.resolve(id);
  } catch {
    return undefined;
  }
}

function sizeSafe(btf: Btf, id: number): number | null {
  try {
    return btf.sizeof(id);
  } catch {
    return null;
  }
}
