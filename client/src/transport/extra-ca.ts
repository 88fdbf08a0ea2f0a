import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LbcError } from '@lbc/contract';

/**
 * The CA certificates for an HTTPS service: node's defaults plus LBC_EXTRA_CA_CERTS, where the lbc
 * launcher moves NODE_EXTRA_CA_CERTS (node 20 parses that file at every start, even when the
 * object comes from the cache and no connection is made). Undefined: node's defaults as they are.
 */
export function extraCaOptions(env: NodeJS.ProcessEnv = process.env): { ca: string[] } | undefined {
  const file = env.LBC_EXTRA_CA_CERTS;
  if (!file) return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new LbcError('LBC_ERR_CA_CERTS', `${file}: ${(cause as Error).message}`, { file }, { cause });
  }
  // node:tls is required here, for an HTTPS service only: loaded with the module, it cost every
  // command that talks to a plain-HTTP service ~5 ms (undici loads it itself when it connects over TLS).
  const { rootCertificates } = createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
  return { ca: [...rootCertificates, pem] };
}
