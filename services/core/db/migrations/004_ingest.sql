-- Kernel packages ingested, by the sha256 of the package file: the same package twice is a no-op.
-- A row is written only once its kernel is registered (kernels.btf_sha256), never before.
CREATE TABLE ingested_packages (
  package_sha256 TEXT PRIMARY KEY,
  btf_sha256     TEXT NOT NULL,
  file_name      TEXT NOT NULL,
  format         TEXT NOT NULL,
  btf_source     TEXT NOT NULL,
  package_name   TEXT NOT NULL DEFAULT '',
  package_version TEXT NOT NULL DEFAULT '',
  size           INTEGER NOT NULL,
  ingest_ms      INTEGER NOT NULL,
  created_at     TEXT NOT NULL
);
CREATE INDEX ingested_packages_by_btf ON ingested_packages (btf_sha256);
