/**
 * An answer sent before its request body was read (a 401 in the authentication hook, a 413 for a
 * Content-Length over the route's limit, a 429) must still reach a client that is busy sending that
 * body. Closing at once resets the connection under the client, which then reports EPIPE instead
 * of the answer; reading on forever lets anyone hold the connection with a slow body. So the rest
 * of the body is read and thrown away up to a bound (small for a caller that did not authenticate),
 * then the connection is closed (an unauthenticated caller's within a second); the request deadline (request-deadlines.ts) bounds the time.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** An unauthenticated caller's body is hardly read: enough for an honest small request to get its 401. */
export const UNAUTHENTICATED_DRAIN_BYTES = 64 * 1024;
export const UNAUTHENTICATED_DRAIN_MS = 1000;

const hasUnreadBody = (request: FastifyRequest) => {
  const raw = request.raw;
  if (raw.complete) return false;
  const length = Number(raw.headers['content-length'] ?? 0);
  return length > 0 || raw.headers['transfer-encoding'] !== undefined;
};

const READ_AT_START = Symbol('lbc.bytesReadAtRequestStart');
type Counted = FastifyRequest & { [READ_AT_START]?: number };

export function drainRefusedBodies(app: FastifyInstance, options: { drainBytes: number }): void {
  // Node may throw away part of the body before the answer is finished: count from the socket.
  app.addHook('onRequest', async (request) => {
    (request as Counted)[READ_AT_START] = request.raw.socket?.bytesRead ?? 0;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    // fastify asks to close after a body it refused; closing with the body unread resets the
    // connection under the client, so the close happens below, once the body is drained.
    if (reply.statusCode >= 400 && hasUnreadBody(request)) reply.removeHeader('connection');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode < 400 || !hasUnreadBody(request)) return;
    const raw = request.raw;
    const socket = raw.socket;
    // app.inject() has no real socket to drain or close.
    if (typeof socket?.end !== 'function') return;
    const bound = reply.statusCode === 401 ? Math.min(UNAUTHENTICATED_DRAIN_BYTES, options.drainBytes) : options.drainBytes;
    const start = (request as Counted)[READ_AT_START] ?? socket.bytesRead;
    // A dumped body emits no 'data' (Node discards it in the parser): watch the socket's count.
    const watch = setInterval(() => {
      if (socket.bytesRead - start > bound) socket.destroy();
    }, 50);
    watch.unref();
    socket.once('close', () => clearInterval(watch));
    if (socket.bytesRead - start > bound) socket.destroy();
    raw.once('end', () => socket.end());
    raw.once('error', () => socket.destroy());
    raw.resume();
    if (reply.statusCode === 401) {
      const grace = setTimeout(() => socket.destroy(), UNAUTHENTICATED_DRAIN_MS);
      socket.once('close', () => clearTimeout(grace));
    }
  });
}
