import { LbcError } from '@lbc/contract';

/** Socket-level failures (refused, reset, DNS, timeouts) mean "the service is unreachable", not a bug. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);

/** OpenSSL's verification failures (node's TLSSocket error codes) and node's host name check. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function errorCode(err: unknown, known: Set<string>): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && known.has(e.code)) return e.code;
    // AggregateError from happy-eyeballs connects (localhost → ::1 and 127.0.0.1).
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner)) for (const x of inner) { const c = errorCode(x, known); if (c) return c; }
  }
  return undefined;
}

/**
 * Wraps a transport failure: LBC_ERR_SERVER_UNREACHABLE or LBC_ERR_SERVER_TLS naming the server and
 * the cause, or rethrows.
 */
export function toTransportError(err: unknown, server: string): unknown {
  if (err instanceof LbcError) return err;
  const tls = errorCode(err, TLS_CODES);
  if (tls) {
    const message = err instanceof Error ? err.message : String(err);
    return new LbcError('LBC_ERR_SERVER_TLS', `${server}: ${tls} (${message})`, { server, cause: tls }, { cause: err });
  }
  const code = errorCode(err, UNREACHABLE_CODES);
  if (!code) return err;
  const cause = err instanceof Error && err.message && !err.message.includes(code) ? `${code} (${err.message})` : code;
  return new LbcError('LBC_ERR_SERVER_UNREACHABLE', `${server}: ${cause}`, { server, cause: code }, { cause: err });
}
