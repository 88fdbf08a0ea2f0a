// Fails when TypeScript sources import each other in a cycle (BullMQ keeps the same rule).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const roots = ['btf/src', 'contract/src', 'services', 'client/src', 'test-support/src'];
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'test' || entry === 'build') continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) walk(full);
    else if (full.endsWith('.ts')) files.push(resolve(full));
  }
};
for (const root of roots) walk(root);

const graph = new Map();
for (const file of files) {
  const deps = [];
  for (const m of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
    if (/^\s*import\s+type\s/.test(m[0])) continue;
    deps.push(resolve(dirname(file), m[1]));
  }
  graph.set(file, deps);
}

const state = new Map();
const stack = [];
let cycle = null;
const visit = (file) => {
  if (cycle) return;
  state.set(file, 'open');
  stack.push(file);
  for (const dep of graph.get(file) ?? []) {
    if (!graph.has(dep)) continue;
    if (state.get(dep) === 'open') {
      cycle = stack.slice(stack.indexOf(dep)).concat(dep);
      return;
    }
    if (!state.has(dep)) visit(dep);
  }
  stack.pop();
  state.set(file, 'done');
};
for (const file of graph.keys()) if (!state.has(file)) visit(file);
if (cycle) {
  console.error('import cycle:\n  ' + cycle.map((f) => f.replace(process.cwd() + '/', '')).join('\n  -> '));
  process.exit(1);
}
console.log(`no import cycles in ${files.length} files`);
