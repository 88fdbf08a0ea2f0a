import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '@lbc/core';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lbc-db-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('database migrations', () => {
  it('applies every migration once, in order, and records it', () => {
    const db = openDatabase(dir);
    const applied = db.prepare('SELECT id, name FROM migrations ORDER BY id').all() as { id: number; name: string }[];
    const shipped = readdirSync(new URL('../db/migrations/', import.meta.url)).filter((f) => f.endsWith('.sql')).sort();
    expect(shipped.slice(0, 2)).toEqual(['001_init.sql', '002_artifact_warnings.sql']);
    expect(applied.map((m) => m.name)).toEqual(shipped);
    db.close();
    const again = openDatabase(dir);
    expect((again.prepare('SELECT COUNT(*) AS n FROM migrations').get() as { n: number }).n).toBe(shipped.length);
    const columns = (again.prepare('PRAGMA table_info(artifacts)').all() as { name: string }[]).map((c) => c.name);
    expect(columns).toContain('warnings');
    expect(again.pragma('journal_mode', { simple: true })).toBe('wal');
    again.close();
  });

  it('a failing migration leaves nothing half-applied', () => {
    const migrations = join(dir, 'migrations');
    mkdirSync(migrations);
    writeFileSync(join(migrations, '001_ok.sql'), 'CREATE TABLE a (x INTEGER);');
    writeFileSync(join(migrations, '002_bad.sql'), 'CREATE TABLE b (x INTEGER); THIS IS NOT SQL;');
    expect(() => openDatabase(join(dir, 'data'), migrations)).toThrow();
    writeFileSync(join(migrations, '002_bad.sql'), 'CREATE TABLE b (x INTEGER);');
    const db = openDatabase(join(dir, 'data'), migrations);
    expect((db.prepare('SELECT COUNT(*) AS n FROM migrations').get() as { n: number }).n).toBe(2);
    db.close();
  });
});
