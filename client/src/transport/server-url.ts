/** Where the compile service lives: the `server` option, else LBC_SERVER, else the local service. */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export function resolveServer(option?: string): string {
  const raw = option ?? process.env.LBC_SERVER ?? DEFAULT_SERVER;
  const url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  // The path part is kept so a service mounted under a prefix works; no trailing slash.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
