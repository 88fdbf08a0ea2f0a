/**
 * The URL at which workers on other hosts reach the API node holding an uploaded package (they
 * fetch it from there: the farm shares no disk). LBC_ADVERTISE_URL names it; otherwise it is the
 * address the upload arrived on, or — for an upload over loopback, which other hosts cannot use —
 * this host's first non-loopback address, with the port the API listens on.
 */
import { networkInterfaces } from 'node:os';
import { isLoopbackAddress } from '../config.ts';

const hostPart = (address: string) => (address.includes(':') ? `[${address}]` : address);

function firstExternalAddress(): string | undefined {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const external = all.filter((a) => !a.internal && !a.address.startsWith('fe80:'));
  return (external.find((a) => a.family === 'IPv4') ?? external[0])?.address;
}

/** advertiseUrl: LBC_ADVERTISE_URL; localAddress/localPort: the socket the upload came in on. */
export function packageOrigin(advertiseUrl: string | undefined, localAddress: string | undefined, localPort: number | undefined): string | undefined {
  if (advertiseUrl) return advertiseUrl.replace(/\/+$/, '');
  if (!localAddress || !localPort) return undefined;
  const local = localAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const address = isLoopbackAddress(local) ? firstExternalAddress() : local;
  return address ? `http://${hostPart(address)}:${localPort}` : undefined;
}
