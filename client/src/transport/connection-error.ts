import { LbcError } from '@lbc/contract';

/** Socket-level failures (refused, reset, DNS, timeouts) mean "the service is unreachable", not a bug. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);

function errorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return e.code;
    // AggregateError from happy-eyeballs connects (localhost → ::1 and 127.0.0.1).
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner)) for (const x of inner) { const c = errorCode(x); if (c) return c; }
  }
  return undefined;
}

/** Wraps a transport failure: LBC_ERR_SERVER_UNREACHABLE naming the server and the cause, or rethrows. */
export function toTransportError(err: unknown, server: string): unknown {
  if (err instanceof LbcError) return err;
  const code = errorCode(err);
  if (!code) return err;
  const cause = err instanceof Error && err.message && !err.message.includes(code) ? `${code} (${err.message})` : code;
  return new LbcError('LBC_ERR_SERVER_UNREACHABLE', `${server}: ${cause}`, { server, cause: code }, { cause: err });
}
