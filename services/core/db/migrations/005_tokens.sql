-- API tokens. Only the sha256 of a token is kept: the token itself is shown once, at creation.
CREATE TABLE tokens (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  token_hash TEXT NOT NULL UNIQUE,
  tenant     TEXT NOT NULL,
  admin      INTEGER NOT NULL DEFAULT 0,
  label      TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX tokens_by_tenant ON tokens (tenant);
