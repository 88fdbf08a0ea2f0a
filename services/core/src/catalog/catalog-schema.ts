/**
 * The schema of one kernel's catalog: a read-only SQLite file per BTF sha256, written once by the
 * indexer. Bump CATALOG_SCHEMA_VERSION when the schema or what goes into it changes: the version
 * is part of the file name, so old catalogs are simply rebuilt.
 */
export const CATALOG_SCHEMA_VERSION = 2;

export const CATALOG_SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

-- Named types, and the anonymous structs/unions a typedef names. id is the BTF type id.
CREATE TABLE types (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL,     -- struct union enum typedef int float fwd
  name        TEXT NOT NULL,
  c           TEXT NOT NULL,     -- C spelling: 'struct sock', 'u32'
  size        INTEGER,           -- bytes; NULL when the type has none (fwd)
  target      INTEGER,           -- typedef: id of the type it ends at, past typedefs and qualifiers
  resolves_to TEXT,              -- typedef: JSON array of the C spellings down that chain
  members     INTEGER,           -- struct/union: direct members
  holes       INTEGER,
  hole_bytes  INTEGER,
  padding     INTEGER,
  truncated   INTEGER            -- struct/union: 1 when nested members were left out (hostile sizes)
);
CREATE INDEX types_by_name ON types (name, kind);

-- Struct/union members in layout order, nested ones flattened (depth, dotted path).
CREATE TABLE members (
  type_id        INTEGER NOT NULL,
  seq            INTEGER NOT NULL,
  depth          INTEGER NOT NULL,
  path           TEXT NOT NULL,
  name           TEXT NOT NULL,
  type           TEXT NOT NULL,
  decl           TEXT NOT NULL,
  kind           TEXT NOT NULL,
  offset         INTEGER NOT NULL,
  bit_offset     INTEGER NOT NULL,
  bit_size       INTEGER NOT NULL,
  size           INTEGER NOT NULL,
  hole_after     INTEGER NOT NULL,
  bit_hole_after INTEGER NOT NULL,
  PRIMARY KEY (type_id, seq)
) WITHOUT ROWID;

CREATE TABLE enum_values (
  type_id INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  name    TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (type_id, seq)
) WITHOUT ROWID;
CREATE INDEX enum_values_by_name ON enum_values (name);

-- BTF FUNC records with their FUNC_PROTO spelled out. Names are not unique (static functions).
CREATE TABLE funcs (
  id       INTEGER PRIMARY KEY,
  name     TEXT NOT NULL,
  linkage  TEXT NOT NULL,
  returns  TEXT NOT NULL,
  variadic INTEGER NOT NULL,
  proto    TEXT NOT NULL
);
CREATE INDEX funcs_by_name ON funcs (name);
CREATE INDEX funcs_by_returns ON funcs (returns);

CREATE TABLE params (
  func_id INTEGER NOT NULL,
  idx     INTEGER NOT NULL,
  name    TEXT NOT NULL,
  type    TEXT NOT NULL,
  PRIMARY KEY (func_id, idx)
) WITHOUT ROWID;
CREATE INDEX params_by_type ON params (type, func_id);
`;
