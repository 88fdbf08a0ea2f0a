/**
 * The package's type declarations (dist/types/): tsc's declarations of the client's sources and of
 * the workspace packages it bundles (@lbc/contract, @lbc/btf), which are not published, so their
 * names in the declarations are rewritten to relative paths into the same tree.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const BUNDLED = { '@lbc/contract': 'contract/src/index.ts', '@lbc/btf': 'btf/src/index.ts' };

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
  for (const file of walk(outdir)) {
    const text = readFileSync(file, 'utf8');
    const rewritten = text.replace(/(from |import\()(['"])(@lbc\/(?:contract|btf))\2/g, (_, lead, quote, name) => {
      let target = relative(dirname(file), join(outdir, BUNDLED[name]));
      if (!target.startsWith('.')) target = `./${target}`;
      return `${lead}${quote}${target}${quote}`;
    });
    if (rewritten !== text) writeFileSync(file, rewritten);
  }
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = resolve(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.d.ts')) yield path;
  }
}
