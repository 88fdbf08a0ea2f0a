-- Kernel catalogs (struct/func/type index of a BTF) that are complete. The index itself lives in
-- <dataDir>/catalog/<btf_sha256>.v<schema_version>.sqlite, written once and renamed into place;
-- two kernels with identical BTF share one. A row here records what went into it.
CREATE TABLE kernel_catalogs (
  btf_sha256     TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  types          INTEGER NOT NULL,
  structs        INTEGER NOT NULL,
  members        INTEGER NOT NULL,
  funcs          INTEGER NOT NULL,
  file_bytes     INTEGER NOT NULL,
  build_ms       INTEGER NOT NULL,
  built_at       TEXT NOT NULL,
  PRIMARY KEY (btf_sha256, schema_version)
);
