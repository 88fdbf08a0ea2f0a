import { createHash, type Hash } from 'node:crypto';

/**
 * sha256 over length-prefixed fields, so no two different inputs encode the same bytes (moving a
 * byte from one field to the next changes the hash). Both the service's cache key and the
 * client's request key are built from it.
 */
export class CanonicalHash {
  private readonly hash: Hash = createHash('sha256');

  constructor(tag: string) {
    this.field(tag);
  }

  field(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    this.hash.update(`${bytes.length}:`).update(bytes).update(';');
    return this;
  }

  /** An ordered list: its length, then each item. */
  list(values: readonly string[]): this {
    this.field(String(values.length));
    for (const v of values) this.field(v);
    return this;
  }

  /** A map whose order does not matter: sorted by key, then key/value pairs. */
  map(record: Readonly<Record<string, string>>): this {
    const keys = Object.keys(record).sort();
    this.field(String(keys.length));
    for (const k of keys) this.field(k).field(record[k]!);
    return this;
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}
