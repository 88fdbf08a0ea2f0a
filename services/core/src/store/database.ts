/**
 * Opens <dataDir>/lbc.sqlite and brings its schema up to date from the package's db/migrations. WAL mode and a
 * busy timeout let several API processes share one data directory.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export type Db = Database.Database;

const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations/', import.meta.url));

export function openDatabase(dataDir: string, migrationsDir: string = MIGRATIONS_DIR): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'lbc.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  migrate(db, migrationsDir);
  return db;
}

function migrate(db: Db, dir: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const files = readdirSync(dir).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort();
  for (const file of files) {
    const id = Number(file.slice(0, 3));
    // IMMEDIATE: a second process opening the same directory waits instead of applying twice.
    db.transaction(() => {
      if (db.prepare('SELECT 1 FROM migrations WHERE id = ?').get(id)) return;
      db.exec(readFileSync(join(dir, file), 'utf8'));
      db.prepare('INSERT INTO migrations (id, name, applied_at) VALUES (?, ?, ?)').run(id, file, new Date().toISOString());
    }).immediate();
  }
}
