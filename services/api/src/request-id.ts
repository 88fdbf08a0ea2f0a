/**
 * One id per request, in every log line of it (fastify's request logger), in the X-Request-Id
 * answer header, and in the compile job it queues (so the worker's log lines carry it too).
 *
 * A well-formed X-Request-Id from the caller (a gateway, a client retrying) is kept, but behind a
 * tag of the credential that sent it (`<8 hex>-<id>`): a caller cannot choose an id that another
 * caller's request (or a generated one) carries, and so cannot splice its lines into that trace.
 * An admin's id is taken as given once the token is checked (adoptCallerRequestId).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/** The caller's own X-Request-Id when it is well formed, else null. */
export function callerRequestId(req: IncomingMessage): string | null {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && WELL_FORMED.test(given) ? given : null;
}

/** Who sent it, without revealing it: the credential (or, without one, the address), hashed. */
function callerTag(req: IncomingMessage): string {
  const credential = req.headers.authorization ?? `address:${req.socket?.remoteAddress ?? ''}`;
  return createHash('sha256').update(credential).digest('hex').slice(0, 8);
}

export function requestIdOf(req: IncomingMessage): string {
  const given = callerRequestId(req);
  return given ? `${callerTag(req)}-${given}` : randomUUID();
}
