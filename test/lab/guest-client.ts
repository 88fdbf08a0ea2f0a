/**
 * The client as a guest runs it: client/src bundled (workspace packages and npm dependencies
 * included, so the guest needs no node_modules) beside a package.json, with the native addon at the
 * path the loader looks for it and the libraries it links. An x86_64 guest gets the development
 * build (native/build/Release) when there is one, else the prebuilt addon; an aarch64 guest the
 * arm64 prebuilt addon (static libbpf; its libelf and zlib come with the guest's arm64 node).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { LbcError, type Arch } from '@lbc/contract';
import type { GuestRoot } from '@lbc/core/lab';

const CLIENT = resolve(import.meta.dirname, '../../client');
export const GUEST_CLIENT_DIR = '/lab/client';

// Bundled CommonJS dependencies require node builtins; an ES module has no `require` of its own.
const CJS_REQUIRE = "import { createRequire as __lbcCreateRequire } from 'node:module'; const require = __lbcCreateRequire(import.meta.url);";

/** Adds the library (dist/index.js) and the CLI (dist/cli.js) to the guest, built from the current sources. */
export async function addGuestClient(root: GuestRoot, arch: Arch = 'x86_64'): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'lbc-guest-client-'));
  try {
    await build({
      absWorkingDir: CLIENT,
      entryPoints: { index: 'src/index.ts', cli: 'src/cli/main.ts' },
      outdir: out,
      bundle: true,
      // As client/dist does it: the HTTP stack is a chunk of its own, parsed only on a cache miss
      // (under TCG every kilobyte of JavaScript parsed at start-up shows).
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      banner: { js: CJS_REQUIRE },
      logLevel: 'warning',
    });
    root.addHostTree(out, `${GUEST_CLIENT_DIR}/dist`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  root.addText(`${GUEST_CLIENT_DIR}/package.json`, JSON.stringify({ name: 'lbc-client', type: 'module', main: 'dist/index.js' }));
  addGuestAddon(root, arch);
}

const PREBUILT_DIR: Record<Arch, string> = { x86_64: 'linux-x64', aarch64: 'linux-arm64' };

function addGuestAddon(root: GuestRoot, arch: Arch): void {
  const built = 'native/build/Release/lbc_native.node';
  if (arch === 'x86_64' && existsSync(join(CLIENT, built))) {
    root.addHostBinary(join(CLIENT, built), `${GUEST_CLIENT_DIR}/${built}`);
    return;
  }
  const prebuilt = `prebuilds/${PREBUILT_DIR[arch]}/lbc_native.napi.glibc.node`;
  if (!existsSync(join(CLIENT, prebuilt))) {
    throw new LbcError('LBC_ERR_LAB_NOT_SET_UP', `client/${prebuilt} is missing; run bash client/native/scripts/prebuild.sh`);
  }
  if (arch === 'x86_64') root.addHostBinary(join(CLIENT, prebuilt), `${GUEST_CLIENT_DIR}/${prebuilt}`);
  else root.addHostFile(join(CLIENT, prebuilt), `${GUEST_CLIENT_DIR}/${prebuilt}`);
}
