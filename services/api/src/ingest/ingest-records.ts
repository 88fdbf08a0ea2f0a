/** The ingested_packages table: which package produced which kernel, for idempotence and audit. */
import type { Db, IngestJobResult } from '@lbc/core';

export interface IngestRecord {
  packageSha256: string;
  btfSha256: string;
  fileName: string;
  format: string;
  btfSource: string;
  packageName: string;
  packageVersion: string;
  size: number;
  ingestMs: number;
  createdAt: string;
}

interface Row {
  package_sha256: string;
  btf_sha256: string;
  file_name: string;
  format: string;
  btf_source: string;
  package_name: string;
  package_version: string;
  size: number;
  ingest_ms: number;
  created_at: string;
}

const toRecord = (r: Row): IngestRecord => ({
  packageSha256: r.package_sha256,
  btfSha256: r.btf_sha256,
  fileName: r.file_name,
  format: r.format,
  btfSource: r.btf_source,
  packageName: r.package_name,
  packageVersion: r.package_version,
  size: r.size,
  ingestMs: r.ingest_ms,
  createdAt: r.created_at,
});

export class IngestRecords {
  constructor(private readonly db: Db) {}

  get(packageSha256: string): IngestRecord | null {
    const row = this.db.prepare('SELECT * FROM ingested_packages WHERE package_sha256 = ?').get(packageSha256) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  /** Idempotent: a second API process finishing the same job changes nothing. */
  add(packageSha256: string, fileName: string, size: number, result: IngestJobResult): IngestRecord {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO ingested_packages (package_sha256, btf_sha256, file_name, format, btf_source, package_name, package_version, size, ingest_ms, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(packageSha256, result.btfSha256, fileName, result.format, result.btfSource, result.packageName, result.packageVersion, size, Math.round(result.ms), new Date().toISOString());
    return this.get(packageSha256)!;
  }
}
