/**
 * Open connections per client address. One client holding hundreds of connections (each a slow
 * request, or just idle) starves the others; past the cap its new connections get one answer,
 * 429 LBC_ERR_TOO_MANY_CONNECTIONS, and are closed. Counted where sockets are accepted, so a
 * connection that never sends a request counts too (the headers deadline closes those).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { LbcError } from '@lbc/contract';

const OVER_CAP = Symbol('lbc.overConnectionCap');
type MarkedSocket = Socket & { [OVER_CAP]?: { address: string; open: number } };

export function capConnectionsPerClient(app: FastifyInstance, cap: number): void {
  if (cap <= 0) return;
  const open = new Map<string, number>();
  (app.server as Server).on('connection', (socket: MarkedSocket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
    if (count > cap) socket[OVER_CAP] = { address, open: count - 1 };
  });
  // Refused at its first request with a normal answer (the socket is then closed).
  app.addHook('onRequest', async (request, reply) => {
    const over = (request.raw.socket as MarkedSocket)[OVER_CAP];
    if (!over) return;
    const err = new LbcError('LBC_ERR_TOO_MANY_CONNECTIONS', `${over.address} already holds ${over.open} connections (cap ${cap})`, { cap, retryAfterSeconds: 1 });
    // Answered here, not thrown: a plugin's own error handler (the queue board) would make it a 500.
    return reply.status(err.status).header('Connection', 'close').header('Retry-After', '1').type('application/json').send(err.toBody());
  });
}
