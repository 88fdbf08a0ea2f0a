/**
 * The token a request carries: `Authorization: Bearer <token>` for programs, or HTTP Basic with the
 * token as password for browsers (the dashboard: the browser asks once and resends it on every
 * request, including the queue board's own calls).
 */
export type Credentials = { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'malformed'; reason: string };

export function readCredentials(authorization: string | undefined): Credentials {
  if (!authorization) return { kind: 'none' };
  const [scheme, value = ''] = authorization.trim().split(/\s+/, 2);
  switch (scheme?.toLowerCase()) {
    case 'bearer':
      return value ? { kind: 'token', token: value } : { kind: 'malformed', reason: 'Bearer without a token' };
    case 'basic': {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const password = colon >= 0 ? decoded.slice(colon + 1) : '';
      return password ? { kind: 'token', token: password } : { kind: 'malformed', reason: 'Basic credentials without a password (the token)' };
    }
    default:
      return { kind: 'malformed', reason: `unsupported scheme ${JSON.stringify(scheme)} (use Bearer)` };
  }
}
