/**
 * Deadlines for what a client sends: the headers within headersTimeoutMs, the whole request (headers
 * and body) within bodyTimeoutMs of its start. Node's HTTP server enforces both (its requestTimeout
 * and headersTimeout, checked every connectionsCheckingInterval); fastify leaves the request deadline
 * off by default, which let a body dripped a byte every few seconds hold a connection forever.
 * Past a deadline the client reads a 408 with a catalogue code and the connection is closed.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { LbcError, type ErrorCode } from '@lbc/contract';

export interface DeadlineSettings {
  bodyTimeoutMs: number;
  headersTimeoutMs: number;
}

/** Options for Node's server (through fastify's `http`/`https` options) and fastify itself. */
export function deadlineServerOptions(settings: DeadlineSettings) {
  const requestTimeout = settings.bodyTimeoutMs;
  // Node refuses a headers deadline longer than the request's; 0 turns the request deadline off.
  const headersTimeout = requestTimeout > 0 ? Math.min(settings.headersTimeoutMs, requestTimeout) : settings.headersTimeoutMs;
  // Node checks the deadlines every interval (30 s by default): a tenth of the shorter one keeps
  // the overshoot small without waking often.
  const shortest = Math.min(...[requestTimeout, headersTimeout].filter((ms) => ms > 0), 30_000);
  const connectionsCheckingInterval = Math.max(100, Math.floor(shortest / 10));
  return { requestTimeout, server: { requestTimeout, headersTimeout, connectionsCheckingInterval } };
}

/** The raw answer written on a socket whose request never completed (fastify's route is not involved). */
export function rawErrorAnswer(code: ErrorCode, message: string, details?: Record<string, unknown>): string {
  const err = new LbcError(code, message, details);
  const body = JSON.stringify(err.toBody());
  const reason = err.status === 408 ? 'Request Timeout' : err.status === 429 ? 'Too Many Requests' : 'Bad Request';
  return `HTTP/1.1 ${err.status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * fastify's clientErrorHandler: Node reports a missed deadline as ERR_HTTP_REQUEST_TIMEOUT on the
 * socket. A request whose headers arrived has a response object on the socket: its body was late.
 */
export function deadlineClientErrorHandler(settings: DeadlineSettings) {
  return function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const response = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (response?.headersSent || !socket.writable) {
      socket.destroy();
      return;
    }
    let answer: string;
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      answer = response
        ? rawErrorAnswer('LBC_ERR_BODY_TIMEOUT', `the request was not complete ${settings.bodyTimeoutMs} ms after it began`, { timeoutMs: settings.bodyTimeoutMs })
        : rawErrorAnswer('LBC_ERR_HEADERS_TIMEOUT', `the request headers were not complete within ${settings.headersTimeoutMs} ms`, { timeoutMs: settings.headersTimeoutMs });
    } else if (err.code === 'HPE_HEADER_OVERFLOW') {
      answer = rawErrorAnswer('LBC_ERR_BAD_REQUEST', 'the request headers are too large');
    } else {
      answer = rawErrorAnswer('LBC_ERR_BAD_REQUEST', `malformed HTTP (${err.code ?? err.message})`);
    }
    // The client may still be sending: end our side once the answer is flushed, then drop the socket.
    socket.end(answer, () => socket.destroy());
    setTimeout(() => socket.destroy(), 1000).unref();
  };
}
