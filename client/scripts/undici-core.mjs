/**
 * The part of undici the CLI uses, for its bundles (dist/cli.js and the snapshot's): the dispatchers
 * (Pool, Client) and the request API, which undici's own index.js attaches to Dispatcher.prototype.
 *
 * undici's index.js also loads fetch, WebSocket, cookies, the mock and cache layers. Besides their
 * own load time (~60 ms at a CLI start here), cookies/index.js reads `globalThis.Headers`, which
 * makes node load its own bundled undici; that one starts compiling its llhttp WebAssembly in the
 * background, and the process cannot exit before the compile ends (100-150 ms after `lbc compile`
 * had written its object). client/src/transport/http.ts imports `Pool` from 'undici' as usual;
 * only the CLI bundles are pointed here. The library (dist/index.js) leaves undici to the user's
 * install. The paths are undici 7's (`undici/lib/...`, no exports map): a moved file fails the
 * build, and test/client-package.test.ts runs the packed bundles against a real service.
 */
import { readFileSync } from 'node:fs';
import { constants as http2Constants } from 'node:http2';
import { resolve } from 'node:path';

const CORE = [
  "'use strict';",
  "const Dispatcher = require('undici/lib/dispatcher/dispatcher.js');",
  "Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js'));",
  'module.exports = {',
  '  Dispatcher,',
  "  Client: require('undici/lib/dispatcher/client.js'),",
  "  Pool: require('undici/lib/dispatcher/pool.js'),",
  "  errors: require('undici/lib/core/errors.js'),",
  '};',
].join('\n');

/**
 * undici's client-h2.js requires node:http2 (which loads tls: ~10 ms of CPU at every start) for the
 * constants it destructures at load. The client speaks HTTP/1.1 (undici's allowH2 is off), so
 * undici gets the constants, copied here, and node:http2 itself only if something else is asked of it.
 */
const HTTP2_STAND_IN = [
  `const constants = ${JSON.stringify(http2Constants)};`,
  'let real;',
  "module.exports = new Proxy({ constants }, { get: (own, key) => (key === 'constants' ? constants : (real ??= require('node:http2'))[key]) });",
].join('\n');

/**
 * undici requires node:http (~4 ms of CPU at a start, and its parser handles keep a startup snapshot
 * from holding undici evaluated) for two things: `maxHeaderSize`, node's default header bound, which
 * client/src/transport/http.ts passes to its Pool itself, and `IncomingMessage`, which util.destroy()
 * compares a request body's class with (a body piped from a node:http server answer). The CLI sends
 * Buffers and strings only, so undici gets a class nothing is an instance of. Anything else asked of
 * the stand-in (and maxHeaderSize at run time) comes from the real node:http, loaded then.
 */
const HTTP_STAND_IN = [
  'class IncomingMessage {}',
  'let real;',
  "const building = () => require('node:v8').startupSnapshot.isBuildingSnapshot();",
  'module.exports = new Proxy({}, {',
  '  get(own, key) {',
  "    if (key === 'IncomingMessage') return IncomingMessage;",
  // undici checks the default is a positive integer when it loads (in the snapshot, before node:http may load).
  "    if (key === 'maxHeaderSize' && !real && building()) return 16 * 1024;",
  "    return (real ??= require('node:http'))[key];",
  '  },',
  '});',
].join('\n');

const MAKE_PARSER = 'llhttpInstance = lazyllhttp()';

/**
 * The warm-up of a new llhttp instance: a canned answer parsed on a parser of its own, with
 * callbacks that do nothing, so that V8 compiles the WebAssembly functions a real answer goes
 * through (it compiles each on its first call, ~3-7 ms in all on the main thread here).
 */
const WARM_PARSER = [
  'function lbcWarmParser () {',
  '  if (!llhttpInstance || currentParser !== null) return',
  '  const llhttp = llhttpInstance.exports',
  "  const answer = Buffer.from('HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\nkeep-alive: timeout=5\\r\\ncontent-length: 2\\r\\n\\r\\n{}')",
  '  const ptr = llhttp.llhttp_alloc(constants.TYPE.RESPONSE)',
  '  const at = llhttp.malloc(answer.length)',
  '  const savedPtr = currentBufferPtr',
  '  const ignore = () => 0',
  '  try {',
  '    new Uint8Array(llhttp.memory.buffer, at, answer.length).set(answer)',
  '    currentParser = { ptr, onStatus: ignore, onMessageBegin: ignore, onHeaderField: ignore, onHeaderValue: ignore, onHeadersComplete: ignore, onBody: ignore, onMessageComplete: ignore }',
  '    currentBufferPtr = at',
  '    currentBufferRef = answer',
  '    llhttp.llhttp_execute(ptr, at, answer.length)',
  '  } finally {',
  '    currentParser = null',
  '    currentBufferRef = null',
  '    currentBufferPtr = savedPtr',
  '    llhttp.free(at)',
  '    llhttp.llhttp_free(ptr)',
  '  }',
  '}',
].join('\n');

/**
 * undici's client-h1.js, with two additions for the CLI:
 * - Its llhttp parser warms up (WARM_PARSER) as soon as the first connection has made it, in the
 *   time the request takes to reach the service and be answered (`setImmediate`: after the request
 *   is written), instead of while the answer is parsed (`lbc run` of a new program: the answer
 *   reached the first event ~4 ms sooner).
 * - lbcForgetParser(): the snapshot's warm-up (undici-warmup.mjs) drops the llhttp WebAssembly
 *   instance undici keeps in this module: a snapshot cannot hold one, and the next connection
 *   makes it anew.
 */
function patchClientH1(source) {
  if (source.split(MAKE_PARSER).length !== 2) throw new Error(`undici's client-h1.js no longer has one ${MAKE_PARSER}: see scripts/undici-core.mjs`);
  return [
    source.replace(MAKE_PARSER, `${MAKE_PARSER}\n    setImmediate(lbcWarmParser)`),
    WARM_PARSER,
    'module.exports.lbcForgetParser = () => { llhttpInstance = null };',
  ].join('\n');
}

/** esbuild plugin: `import ... from 'undici'` gets the core above, bundled from the client's undici. */
export function undiciCore(root) {
  return {
    name: 'lbc-undici-core',
    setup(b) {
      b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici-core', namespace: 'lbc-undici-core' }));
      b.onLoad({ filter: /.*/, namespace: 'lbc-undici-core' }, () => ({ contents: CORE, loader: 'js', resolveDir: resolve(root) }));
      // undici's own require of node:http2 gets the stand-in; the stand-in's gets the real module.
      b.onResolve({ filter: /^node:http2$/ }, (args) =>
        args.namespace === 'lbc-http2' ? { path: args.path, external: true } : /[\\/]undici[\\/]/.test(args.importer) ? { path: 'http2', namespace: 'lbc-http2' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'lbc-http2' }, () => ({ contents: HTTP2_STAND_IN, loader: 'js' }));
      // See patchClientH1.
      b.onLoad({ filter: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h1\.js$/ }, (args) => ({ contents: patchClientH1(readFileSync(args.path, 'utf8')), loader: 'js' }));
      // Likewise node:http (the stand-in above).
      b.onResolve({ filter: /^node:http$/ }, (args) =>
        args.namespace === 'lbc-http' ? { path: args.path, external: true } : /[\\/]undici[\\/]/.test(args.importer) ? { path: 'http', namespace: 'lbc-http' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'lbc-http' }, () => ({ contents: HTTP_STAND_IN, loader: 'js' }));
    },
  };
}
