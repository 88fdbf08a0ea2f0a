/**
 * `npm run bench`: every benchmark script in bench/ (all but the helpers), one after another, each
 * in its own process so one's memory and attached programs cannot colour the next's figures.
 * Run: node --import tsx bench/run.ts [name ...]   (names without .ts pick a subset)
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

// Modules the benchmarks import or start themselves, not benchmarks of their own.
const HELPERS = new Set(['stats.ts', 'run.ts', 'ringbuf-delivery.ts', 'ringbuf-js-consumer.ts']);
const wanted = process.argv.slice(2);
const scripts = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith('.ts') && !HELPERS.has(f))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.ts$/, '')))
  .sort();

const failed: string[] = [];
for (const script of scripts) {
  console.log(`\n### bench/${script}`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, script)], { stdio: 'inherit' });
    child.once('exit', (c, signal) => resolve(signal ? 128 : c));
  });
  if (code !== 0) failed.push(`${script} (exit ${code})`);
}
if (failed.length) {
  console.error(`\nbenchmarks failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
