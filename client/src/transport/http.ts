import v8 from 'node:v8';
import { Pool, type Dispatcher } from 'undici';
import { LbcError, type ErrorBody } from '@lbc/contract';
import { toTransportError } from './connection-error.ts';
import { extraCaOptions } from './extra-ca.ts';

declare global {
  /** Set by the CLI (client/src/cli/start.ts): this process asks the service a few times, then exits or streams events. */
  var __lbcCliProcess: boolean | undefined;
}

let wasmTierChosen = false;

/**
 * undici parses HTTP with llhttp compiled to WebAssembly, and V8 tiers its parser up to TurboFan
 * after the first responses: ~100 ms of CPU and ~35 MB of RSS that a CLI process never earns back
 * (`lbc compile` on a cache hit: 0.27 -> 0.15 s of CPU, 93 -> 58 MB peak). The CLI keeps it on the
 * baseline compiler. Set when the first transport is made (its module may be evaluated in the CLI's
 * startup snapshot, before the process knows it is the CLI), once undici and the built-ins it needs
 * are loaded: a V8 flag changed at run time stops node's code cache from matching, so built-ins
 * loaded after it compile from source.
 */
function chooseWasmTier(): void {
  if (wasmTierChosen || !globalThis.__lbcCliProcess) return;
  wasmTierChosen = true;
  v8.setFlagsFromString('--liftoff-only');
}

export interface HttpOptions {
  /** Connect timeout; a dead host fails fast instead of hanging the program start. */
  connectTimeoutMs?: number;
  /** Default bound on waiting for response headers (a compile request raises it to its waitMs). */
  requestTimeoutMs?: number;
  /** Bearer token for a service that requires one; default LBC_TOKEN. */
  token?: string;
  /**
   * Called once, after the first connection to the service is made and the requests waiting for
   * it are written: the caller prepares what does not need the answer while the service works on
   * it. Never called when no connection is made. It must not throw.
   */
  onFirstRequestSent?: () => void;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface HttpRequest {
  method: Dispatcher.HttpMethod;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs?: number;
  /** Bound on the response body (default DEFAULT_MAX_RESPONSE_BYTES): past it the download stops with LBC_ERR_RESPONSE_TOO_LARGE. */
  maxBytes?: number;
}

/**
 * JSON answers (results, job states, kernel lists, errors) are kilobytes; objects and BTF pass
 * their own bound from the service's limits. Nothing the service sends is buffered without one.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Bound on a response's headers: node's own default. The service's headers are a few hundred bytes. */
const MAX_HEADER_BYTES = 16 * 1024;

/** One keep-alive pool per service: the cache-hit path is a single round trip on a warm socket. */
export class HttpTransport {
  readonly server: string;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly requestTimeoutMs: number;
  private readonly authorization: string | undefined;

  constructor(server: string, options: HttpOptions = {}) {
    chooseWasmTier();
    this.server = server;
    const url = new URL(server);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    const token = options.token ?? process.env.LBC_TOKEN;
    this.authorization = token ? `Bearer ${token}` : undefined;
    const connect = url.protocol === 'https:' ? extraCaOptions() : undefined;
    // maxHeaderSize: node's default (16 KiB), given here so undici need not load node:http to learn
    // it (the CLI's undici has a stand-in for it: client/scripts/undici-core.mjs).
    this.pool = new Pool(url.origin, { connections: 4, connectTimeout: options.connectTimeoutMs ?? 5_000, maxHeaderSize: MAX_HEADER_BYTES, ...(connect && { connect }) });
    const sent = options.onFirstRequestSent;
    // undici emits 'connect' and then, in the same callback, writes the requests that waited for
    // the connection: an immediate set up on 'connect' runs once they are on the wire.
    if (sent) this.pool.once('connect', () => setImmediate(sent));
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const timeout = req.timeoutMs ?? this.requestTimeoutMs;
    try {
      const res = await this.pool.request({
        method: req.method,
        path: this.basePath + req.path,
        headers: this.authorization ? { authorization: this.authorization, ...req.headers } : req.headers,
        body: req.body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      const body = await readBounded(res, req.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES, `${req.method} ${req.path} from ${this.server}`);
      return { status: res.statusCode, headers: res.headers, body };
    } catch (err) {
      if (err instanceof LbcError) throw err;
      throw toTransportError(err, this.server);
    }
  }

  /** JSON in, JSON out; any non-2xx answer becomes the service's LbcError. */
  async json<T>(req: HttpRequest & { json?: unknown }, accept: number[] = [200]): Promise<{ status: number; data: T }> {
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    let body = req.body;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    }
    const res = await this.request({ ...req, headers, body });
    if (!accept.includes(res.status)) throw errorFromResponse(res, this.server);
    return { status: res.status, data: parseJson(res, this.server) as T };
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => undefined);
  }
}

/** The body, read chunk by chunk: refused as soon as its announced or received length passes `maxBytes`. */
async function readBounded(res: Dispatcher.ResponseData, maxBytes: number, what: string): Promise<Buffer> {
  const tooLarge = (bytes: string) => {
    res.body.destroy();
    return new LbcError('LBC_ERR_RESPONSE_TOO_LARGE', `${what}: ${bytes}, more than the ${maxBytes} bytes accepted`, { limit: maxBytes });
  };
  const announced = Number(res.headers['content-length']);
  if (Number.isFinite(announced) && announced > maxBytes) throw tooLarge(`Content-Length ${announced}`);
  // 'data' events, not `for await`: a stream's async iterator (end-of-stream watchers, a promise per
  // chunk) cost a CLI process's first answer ~1-2 ms of CPU, on the way to its object.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const body = res.body;
    body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        body.removeAllListeners('data');
        reject(tooLarge(`${received} bytes received`));
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    body.once('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks, received));
    });
    body.once('error', reject);
    // Closed without its end or an error of its own: a connection lost as undici tells it.
    body.once('close', () => {
      if (!ended) reject(Object.assign(new Error('the connection closed before the answer ended'), { code: 'UND_ERR_SOCKET' }));
    });
  });
}

function parseJson(res: HttpResponse, server: string): unknown {
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new LbcError('LBC_ERR_INTERNAL', `${server} answered ${res.status} with a body that is not JSON`, { status: res.status });
  }
}

export function errorFromResponse(res: HttpResponse, server: string): LbcError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const body = parsed as Partial<ErrorBody> | undefined;
  if (body?.error && typeof body.error.code === 'string') {
    // Retry-After (seconds) rides along for the client's retry policy (transport/retry.ts).
    const retryAfter = Number(res.headers['retry-after']);
    if (Number.isFinite(retryAfter) && retryAfter >= 0) body.error.details = { ...body.error.details, retryAfterSeconds: retryAfter };
    return LbcError.fromBody(body as ErrorBody);
  }
  const text = res.body.toString('utf8').slice(0, 200);
  return new LbcError('LBC_ERR_INTERNAL', `${server} answered HTTP ${res.status}${text ? `: ${text}` : ''}`, { status: res.status });
}
