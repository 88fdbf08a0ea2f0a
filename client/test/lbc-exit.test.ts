import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const EXIT_CLEANUP = resolve(import.meta.dirname, '../src/lifecycle/exit-cleanup.ts');

/** Runs a child that tracks two closables, then sends it `signal` (or lets it exit). */
async function runChild(mode: 'SIGINT' | 'SIGTERM' | 'exit' | 'own-handler'): Promise<{ code: number | null; signal: string | null; closed: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-exit-'));
  const out = join(dir, 'closed');
  const script = `
    import { appendFileSync } from 'node:fs';
    import { trackForExit, untrackForExit } from ${JSON.stringify(EXIT_CLEANUP)};
    const mk = (n) => ({ close() { appendFileSync(${JSON.stringify(out)}, n); } });
    trackForExit(mk('a'));
    trackForExit(mk('b'));
    const gone = mk('c'); trackForExit(gone); untrackForExit(gone);
    if (${JSON.stringify(mode)} === 'own-handler') process.on('SIGINT', () => { appendFileSync(${JSON.stringify(out)}, '!'); process.exit(7); });
    if (${JSON.stringify(mode)} === 'exit') setTimeout(() => process.exit(0), 10);
    else { setInterval(() => {}, 1000); console.log('ready'); }
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (mode !== 'exit') {
    await new Promise<void>((r) => child.stdout!.once('data', () => r()));
    child.kill(mode === 'own-handler' ? 'SIGINT' : mode);
  }
  const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
  const closed = existsSync(out) ? readFileSync(out, 'utf8') : '';
  rmSync(dir, { recursive: true, force: true });
  return { code, signal, closed };
}

describe('cleanup at process end', () => {
  it('Ctrl-C closes every live object, then the process dies of SIGINT as it would have', async () => {
    const r = await runChild('SIGINT');
    expect(r.closed).toBe('ab');
    expect(r.signal).toBe('SIGINT');
  });

  it('SIGTERM likewise', async () => {
    const r = await runChild('SIGTERM');
    expect(r.closed).toBe('ab');
    expect(r.signal).toBe('SIGTERM');
  });

  it('a normal exit closes them too', async () => {
    const r = await runChild('exit');
    expect(r.closed).toBe('ab');
    expect(r.code).toBe(0);
  });

  it("a program's own SIGINT handler still decides how to exit", async () => {
    const r = await runChild('own-handler');
    expect(r.closed).toBe('ab!');
    expect(r.code).toBe(7);
  });
});
