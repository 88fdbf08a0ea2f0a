// Fails when TypeScript sources import each other in a cycle (BullMQ keeps the same rule), or when
// a workspace package's source reaches into another package by relative path instead of through
// that package's exports (its package.json "exports" are what it offers; its folders are its own).
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

/** The first cycle in `edges` (node → nodes it imports), or null. */
function findCycle(edges) {
  const state = new Map();
  const stack = [];
  let cycle = null;
  const visit = (node) => {
    if (cycle) return;
    state.set(node, 'open');
    stack.push(node);
    for (const dep of edges.get(node) ?? []) {
      if (!edges.has(dep)) continue;
      if (state.get(dep) === 'open') {
        cycle = stack.slice(stack.indexOf(dep)).concat(dep);
        return;
      }
      if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return cycle;
}

const relativeName = (f) => f.replace(process.cwd() + '/', '');
const fileCycle = findCycle(graph);
if (fileCycle) {
  console.error('import cycle:\n  ' + fileCycle.map(relativeName).join('\n  -> '));
  process.exit(1);
}

// The client's folders are its layers (target, cache, obtain, transport, ...): files may not loop, and
// neither may folders, or a layer can no longer be read (or lazily loaded) without the one above it.
const clientRoot = resolve('client/src');
const folderGraph = new Map();
for (const [file, deps] of graph) {
  if (!file.startsWith(clientRoot + '/')) continue;
  const from = dirname(file);
  if (!folderGraph.has(from)) folderGraph.set(from, new Set());
  for (const dep of deps) if (dirname(dep) !== from && graph.has(dep)) folderGraph.get(from).add(dirname(dep));
}
const folderCycle = findCycle(folderGraph);
if (folderCycle) {
  console.error('folder import cycle in the client:\n  ' + folderCycle.map(relativeName).join('\n  -> '));
  process.exit(1);
}

// Every relative specifier or path literal in a package's source ('../../client/src/x.ts',
// resolve(import.meta.dirname, '../../../../client/native/src')) must stay inside that package.
// Its tests are its own business (they may reach the repository's fixtures); the repository's
// top-level test/, bench/ and scripts/ belong to no workspace package and are not checked.
const workspaces = JSON.parse(readFileSync('package.json', 'utf8')).workspaces.map((w) => resolve(w));
const packageOf = (path) => workspaces.filter((w) => path === w || path.startsWith(w + '/')).sort((a, b) => b.length - a.length)[0];
const sources = [];
const walkSources = (dir) => {
  for (const entry of readdirSync(dir)) {
    if (['node_modules', 'test', 'build', 'dist', 'prebuilds'].includes(entry) || entry.startsWith('.')) continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) walkSources(full);
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(full)) sources.push(resolve(full));
  }
};
for (const w of workspaces) walkSources(w);
const reaches = [];
for (const file of sources) {
  const own = packageOf(file);
  for (const m of readFileSync(file, 'utf8').matchAll(/['"`](\.\.?\/[^'"`\s]*)['"`]/g)) {
    const target = packageOf(resolve(dirname(file), m[1]));
    if (target && target !== own) reaches.push(`${relativeName(file)}: '${m[1]}' is inside ${relativeName(target)}`);
  }
}
if (reaches.length) {
  console.error(`a package reaches into another by relative path (import it by package name, through its exports):\n  ${reaches.join('\n  ')}`);
  process.exit(1);
}
console.log(`no import cycles in ${files.length} files, nor between the client's ${folderGraph.size} folders; no package reaches into another by relative path (${sources.length} files)`);
