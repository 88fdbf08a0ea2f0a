/**
 * Verdicts of lbc verify in SQLite, by (object sha256, kernel BTF sha256, lab version, setup hash):
 * the same object on the same kernel, run by the same lab with the same setup and workload, gets the
 * same verdict, so it is answered without booting anything. Only real verdicts are kept (passed or
 * failed); a guest that could not give one (status error: a boot fault, a timeout) is tried again.
 */
import { CanonicalHash, type KernelVerdict, type VerifySetup, type VerifyWorkload } from '@lbc/contract';
import type { Db } from '@lbc/core';

/** Changing this encoding changes every verdict's key: bump the tag's version. */
export function verdictSetupHash(setup: VerifySetup | undefined, workload: VerifyWorkload | undefined): string {
  const s = setup ?? {};
  const text = (r: Record<string, unknown> | undefined) => Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k, `${typeof v}:${String(v)}`]));
  return new CanonicalHash('lbc-verify-setup-v1')
    .map(text(s.globals))
    .map(text(s.autoload))
    .map(text(s.maxEntries))
    .field(String(s.fallbacks ?? true))
    .map(text(s.twins))
    .list(workload?.command ?? [])
    .field(String(workload ? (workload.repeat ?? 1) : 0))
    .hex();
}

export interface VerdictKey {
  objectSha256: string;
  btfSha256: string;
  labVersion: string;
  setupSha256: string;
}

type StoredVerdict = Omit<KernelVerdict, 'kernel' | 'cached'>;

export class VerdictCache {
  constructor(private readonly db: Db) {}

  get(key: VerdictKey, kernel: KernelVerdict['kernel']): KernelVerdict | null {
    const row = this.db
      .prepare('SELECT verdict FROM verdicts WHERE object_sha256 = ? AND btf_sha256 = ? AND lab_version = ? AND setup_sha256 = ?')
      .get(key.objectSha256, key.btfSha256, key.labVersion, key.setupSha256) as { verdict: string } | undefined;
    if (!row) return null;
    const stored = JSON.parse(row.verdict) as StoredVerdict;
    const { bootMs: _bootMs, ...rest } = stored;
    return { kernel, ...rest, objectSha256: key.objectSha256, cached: true };
  }

  /** Keeps a passed or failed verdict; an error (no verdict) is not kept. */
  put(key: VerdictKey, verdict: KernelVerdict): boolean {
    if (verdict.status === 'error') return false;
    const { kernel: _kernel, cached: _cached, ...stored } = verdict;
    this.db
      .prepare('INSERT OR REPLACE INTO verdicts (object_sha256, btf_sha256, lab_version, setup_sha256, verdict, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(key.objectSha256, key.btfSha256, key.labVersion, key.setupSha256, JSON.stringify(stored), new Date().toISOString());
    return true;
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM verdicts').get() as { n: number }).n;
  }
}
