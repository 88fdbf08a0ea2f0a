/**
 * The package's type declarations (dist/types/): tsc's declarations of the client's sources and of
 * the workspace packages it bundles (@lbc/contract, @lbc/btf), which are not published, so their
 * names in the declarations are rewritten to relative paths into the same tree. The contract's
 * types are derived from its JSON schemas (TypeBox's Static): the client needs TypeBox's
 * declarations, never its code, so those ship in the same tree too (vendor/, with its licence)
 * rather than as a dependency every install would fetch.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const BUNDLED = { '@lbc/contract': 'contract/src/index.ts', '@lbc/btf': 'btf/src/index.ts' };
/** Packages the declarations import types from, and their ES module declarations' entry. */
const TYPES_ONLY = { '@sinclair/typebox': 'build/esm/index.d.mts' };

export function emitDeclarations(repo, outdir) {
  const work = mkdtempSync(join(tmpdir(), 'lbc-declarations-'));
  try {
    const config = join(work, 'tsconfig.json');
    writeFileSync(
      config,
      JSON.stringify({
        extends: join(repo, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          declaration: true,
          emitDeclarationOnly: true,
          outDir: outdir,
          rootDir: repo,
          typeRoots: [join(repo, 'node_modules', '@types')],
        },
        include: [join(repo, 'client', 'src'), join(repo, 'contract', 'src'), join(repo, 'btf', 'src')],
      }),
    );
    execFileSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { stdio: 'inherit' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const entries = { ...BUNDLED };
  for (const [name, entry] of Object.entries(TYPES_ONLY)) entries[name] = vendorDeclarations(repo, outdir, name, entry);
  for (const file of walk(outdir)) {
    if (file.startsWith(join(outdir, 'vendor'))) continue;
    const text = readFileSync(file, 'utf8');
    const rewritten = text.replace(/(from |import\()(['"])(@lbc\/(?:contract|btf)|@sinclair\/typebox)\2/g, (_, lead, quote, name) => {
      let target = relative(dirname(file), join(outdir, entries[name]));
      if (!target.startsWith('.')) target = `./${target}`;
      return `${lead}${quote}${target}${quote}`;
    });
    if (rewritten !== text) writeFileSync(file, rewritten);
  }
}

/**
 * Copies a package's declaration files reachable from its entry (and its licence) to
 * vendor/<name>/; returns the entry's path in the tree as an import names it (.d.mts → .mjs).
 */
function vendorDeclarations(repo, outdir, name, entry) {
  const from = join(repo, 'node_modules', name);
  const to = join(outdir, 'vendor', name);
  const pending = [resolve(from, entry)];
  const seen = new Set();
  while (pending.length > 0) {
    const file = pending.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from |import\()['"](\.[^'"]+)\.mjs['"]/g)) pending.push(resolve(dirname(file), `${m[1]}.d.mts`));
    const target = join(to, relative(from, file));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  for (const licence of readdirSync(from).filter((f) => /^licen[cs]e/i.test(f))) copyFileSync(join(from, licence), join(to, licence));
  return join('vendor', name, entry.replace(/\.d\.mts$/, '.mjs'));
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = resolve(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.d.ts')) yield path;
  }
}
