/**
 * Socket filters (SEC("socket")) on a socket the caller opened: SO_ATTACH_BPF. The program sees
 * every packet the socket receives and returns how many bytes of it to keep (0 drops it). The
 * "link" detaches with SO_DETACH_BPF; the filter also goes when the socket closes.
 */
import { Socket as DgramSocket } from 'node:dgram';
import { LbcError } from '@lbc/contract';
import type { NativeLink, NativeObject } from '../native/types.ts';
import { loadNative } from '../native/index.ts';
import { translateAttach } from './attach-errors.ts';
import { requireProgram } from './program-lookup.ts';
import { requireKind } from './program-kind.ts';
import { interfaceIndex } from './network.ts';

const SOCKET_SECTION = /^socket(\/|$)/;

/** A socket fd, or a Node socket (net.Socket, net.Server, dgram.Socket) once it is open. */
export type SocketTarget = number | object;

export function attachSocket(object: NativeObject, prog: string, socket: SocketTarget): NativeLink {
  const info = requireProgram(object, prog);
  requireKind(info, SOCKET_SECTION, 'attachSocket()', 'socket filter');
  const fd = socketFd(socket, prog);
  const native = loadNative();
  translateAttach({ prog, kind: 'socket', target: `socket fd ${fd}` }, () => native.attachSocketFilter(fd, info.fd));
  let attached = true;
  return {
    destroy() {
      if (!attached) return;
      attached = false;
      try {
        native.detachSocketFilter(fd);
      } catch {
        // The socket is closed already, and its filter with it.
      }
    },
    fd: () => -1,
  };
}

export interface PacketSocket extends NativeLink {
  /** Stops reading and closes the socket (the filter goes with it); idempotent. Same as destroy(). */
  close(): void;
}

/**
 * Opens a raw packet socket on `iface` (name or ifindex) with the filter attached before the
 * first packet, and calls `onPacket` with each packet it keeps (Ethernet header first).
 */
export function openPacketSocket(object: NativeObject, prog: string, iface: number | string, onPacket: (packet: Buffer) => void): PacketSocket {
  const info = requireProgram(object, prog);
  requireKind(info, SOCKET_SECTION, 'openPacketSocket()', 'socket filter');
  const ifindex = typeof iface === 'number' ? iface : interfaceIndex(iface);
  const buffer = translateAttach({ prog, kind: 'socket', target: `packet socket on ${iface} (ifindex ${ifindex})` }, () =>
    loadNative().openPacketSocket(ifindex, info.fd, (packets) => {
      for (const packet of packets) onPacket(packet);
    }),
  );
  const close = () => buffer.close();
  return { close, destroy: close, fd: () => -1 };
}

// Node keeps a socket's fd on its libuv handle: `_handle` for net, the `state` symbol's handle for dgram.
function socketFd(socket: SocketTarget, prog: string): number {
  if (typeof socket === 'number') {
    if (Number.isInteger(socket) && socket >= 0) return socket;
  } else if (socket !== null && typeof socket === 'object') {
    // The dgram state first: dgram's own `_handle` getter is deprecated (DEP0112).
    for (const sym of Object.getOwnPropertySymbols(socket)) {
      const state = (socket as Record<symbol, unknown>)[sym] as { handle?: unknown } | undefined;
      const fd = handleFd(state?.handle);
      if (fd !== undefined) return fd;
    }
    if (socket instanceof DgramSocket) return invalid(prog);
    const direct = handleFd((socket as { _handle?: unknown })._handle);
    if (direct !== undefined) return direct;
  }
  return invalid(prog);
}

function invalid(prog: string): never {
  throw new LbcError(
    'LBC_ERR_ATTACH_TARGET',
    `${prog}: attachSocket() needs an open socket: a socket fd (integer >= 0), or a net.Socket / net.Server / dgram.Socket after it is bound or connected`,
    { prog },
  );
}

function handleFd(handle: unknown): number | undefined {
  const fd = (handle as { fd?: unknown } | undefined)?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
