/** A throwaway certificate authority for TLS tests: one self-signed certificate for 127.0.0.1. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Writes `<dir>/<name>.pem` and `<dir>/<name>-key.pem` (openssl, CN=name, valid a day) and returns their paths. */
export function selfSignedCert(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
