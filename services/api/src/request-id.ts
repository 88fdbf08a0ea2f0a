/**
 * One id per request, in every log line of it (fastify's request logger), in the X-Request-Id
 * answer header, and in the compile job it queues (so the worker's log lines carry it too). A
 * well-formed X-Request-Id from the caller (a gateway, a client retrying) is kept.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && WELL_FORMED.test(given) ? given : randomUUID();
}
