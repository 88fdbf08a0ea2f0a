-- Compiler warnings travel with the object, so a cache hit answers exactly like the compile did.
ALTER TABLE artifacts ADD COLUMN warnings TEXT NOT NULL DEFAULT '';
