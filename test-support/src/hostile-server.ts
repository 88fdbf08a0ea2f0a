/**
 * A service that lies, in a child process on 127.0.0.1 (so the client's memory is measured apart
 * from the server's): each route answers JSON, the bytes of a file, or an endless stream of zeros
 * written only as fast as the client reads them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export type HostileRoute =
  | { json: unknown; status?: number }
  | { file: string }
  /** `bytes` zeros, chunked, or with a Content-Length announcing them. */
  | { zeros: number; announce?: boolean };

export interface HostileServer {
  url: string;
  /** Requests the server saw, as "METHOD /path". */
  seen(): Promise<string[]>;
  close(): Promise<void>;
}

const SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const routes = JSON.parse(process.env.HOSTILE_ROUTES);
const seen = [];
const chunk = Buffer.alloc(1 << 20);
const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/__seen') return res.end(JSON.stringify(seen));
  seen.push(req.method + ' ' + path);
  req.resume();
  const route = routes[req.method + ' ' + path];
  if (!route) { res.writeHead(404, { 'content-type': 'application/json' }); return res.end(JSON.stringify({ error: { code: 'LBC_ERR_NOT_FOUND', message: 'Route not found', hint: '' } })); }
  if ('json' in route) { res.writeHead(route.status || 200, { 'content-type': 'application/json' }); return res.end(JSON.stringify(route.json)); }
  if ('file' in route) { res.writeHead(200, { 'content-type': 'application/octet-stream' }); return fs.createReadStream(route.file).pipe(res); }
  res.writeHead(200, { 'content-type': 'application/octet-stream', ...(route.announce ? { 'content-length': String(route.zeros) } : {}) });
  let left = route.zeros;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return res.once('drain', pump);
    }
    res.end();
  };
  res.on('close', () => { left = 0; });
  pump();
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

export async function startHostileServer(routes: Record<string, HostileRoute>): Promise<HostileServer> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SERVER], { env: { ...process.env, HOSTILE_ROUTES: JSON.stringify(routes) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const url = `http://127.0.0.1:${Number(line.toString().trim())}`;
  return {
    url,
    async seen() {
      return (await (await fetch(`${url}/__seen`)).json()) as string[];
    },
    async close() {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}
