/**
 * The URL at which nodes on other hosts reach the API node that received an uploaded package: a
 * worker on another host sends the package's boot image back there (the package itself travels by
 * hash through the farm blob store). LBC_ADVERTISE_URL names it; otherwise it is the address the
 * upload arrived on, or — for an upload over loopback to an API that also listens on other
 * addresses — this host's first non-loopback address, with the port the upload came in on.
 */
import { networkInterfaces } from 'node:os';
import { isLoopbackAddress } from '@lbc/core';

const hostPart = (address: string) => (address.includes(':') ? `[${address}]` : address);

function firstExternalAddress(): string | undefined {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const external = all.filter((a) => !a.internal && !a.address.startsWith('fe80:'));
  return (external.find((a) => a.family === 'IPv4') ?? external[0])?.address;
}

/**
 * advertiseUrl: LBC_ADVERTISE_URL; localAddress/localPort: the socket the upload came in on;
 * listenAddress: what the API listens on (an API on loopback only is reached on loopback);
 * protocol: the API's (https with LBC_TLS_CERT; the certificate must then name the address, or
 * LBC_ADVERTISE_URL a name it holds).
 */
export function packageOrigin(
  advertiseUrl: string | undefined,
  localAddress: string | undefined,
  localPort: number | undefined,
  listenAddress?: string,
  protocol: 'http' | 'https' = 'http',
): string | undefined {
  if (advertiseUrl) return advertiseUrl.replace(/\/+$/, '');
  if (!localAddress || !localPort) return undefined;
  const local = localAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const loopbackOnly = listenAddress !== undefined && isLoopbackAddress(listenAddress);
  const address = isLoopbackAddress(local) && !loopbackOnly ? firstExternalAddress() : local;
  return address ? `${protocol}://${hostPart(address)}:${localPort}` : undefined;
}
