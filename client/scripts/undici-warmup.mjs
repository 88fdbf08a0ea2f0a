/**
 * A request through undici's Pool while the CLI's startup snapshot is built (snapshot.mjs): V8
 * keeps the bytecode of the functions that ran, so a command's first request to the service does
 * not compile them lazily (a process's first request through undici cost ~18 ms of CPU, the next
 * ones ~2 ms). The other end is a loopback socket in this process.
 *
 * node has no WebAssembly while it builds a snapshot, so the request stops where undici compiles
 * its llhttp parser, once connected: what runs is the pool, the client, the request's checks and
 * dispatch, the connector and the error path (`lbc compile` on a cache hit: ~7 ms less CPU). Were
 * WebAssembly there, the parser instance undici keeps (which a snapshot cannot hold) is dropped
 * afterwards, and so is undici's timer tick. No loopback (a sandboxed build): no warm-up.
 */
import { createServer } from 'node:net';
import v8 from 'node:v8';
import { Pool } from 'undici';
import connectH1 from 'undici/lib/dispatcher/client-h1.js';
import timers from 'undici/lib/util/timers.js';

const BODY = '{"warm":"up"}';
const ANSWER = `HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`;

async function warmUp() {
  const server = createServer((socket) => {
    socket.on('data', () => socket.write(ANSWER));
    socket.on('error', () => undefined);
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  // As client/src/transport/http.ts makes its pool and asks (a JSON POST, its body read chunk by chunk).
  const pool = new Pool(`http://127.0.0.1:${server.address().port}`, { connections: 4, connectTimeout: 5000, maxHeaderSize: 16 * 1024 });
  try {
    const res = await pool.request({ method: 'POST', path: '/v1/warm-up', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: BODY, headersTimeout: 5000, bodyTimeout: 5000 });
    const chunks = [];
    for await (const chunk of res.body) chunks.push(chunk);
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } finally {
    await pool.close();
    await new Promise((resolve) => server.close(resolve));
    connectH1.lbcForgetParser();
    timers.reset();
  }
}

export function warmUpUndici() {
  // The request ends in an error where WebAssembly is missing: the warm-up is what ran until then.
  if (v8.startupSnapshot.isBuildingSnapshot()) warmUp().catch(() => undefined);
}
