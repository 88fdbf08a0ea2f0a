-- Kernel sets the service can compile against, keyed by the sha256 of their raw BTF.
CREATE TABLE kernels (
  btf_sha256 TEXT PRIMARY KEY,
  release    TEXT NOT NULL,
  arch       TEXT NOT NULL,
  distro     TEXT NOT NULL DEFAULT '',
  source     TEXT NOT NULL,
  btf_size   INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX kernels_by_release ON kernels (release, arch, distro, created_at);

-- Compiled objects by cache key; the bytes live in blobs/<sha[0:2]>/<sha>.
-- Several keys may produce the same object, hence sha256 is not unique.
CREATE TABLE artifacts (
  cache_key   TEXT PRIMARY KEY,
  sha256      TEXT NOT NULL,
  size        INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  last_access INTEGER NOT NULL,
  hits        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX artifacts_by_sha ON artifacts (sha256);
CREATE INDEX artifacts_by_access ON artifacts (last_access);
