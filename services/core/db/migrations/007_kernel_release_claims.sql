-- Whether a kernel set answers for its release (compiles that name only a release, arch and distro).
-- An upload by a non-admin under a release another kernel already holds is kept (by its sha256) but
-- does not take the release over: 0 here.
ALTER TABLE kernels ADD COLUMN answers_release INTEGER NOT NULL DEFAULT 1;
