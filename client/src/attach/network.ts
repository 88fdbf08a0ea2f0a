/** XDP on an interface, programs on a cgroup, and netns-wide programs (flow dissector, sk_lookup). */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { LbcError } from '@lbc/contract';
import type { NativeLink, NativeObject } from '../native/types.ts';
import { translateAttach } from './attach-errors.ts';
import { requireProgram } from './program-lookup.ts';

/** `iface` is an ifindex or an interface name ('eth0'). */
export function attachXdp(object: NativeObject, prog: string, iface: number | string): NativeLink {
  requireProgram(object, prog);
  const ifindex = typeof iface === 'number' ? iface : interfaceIndex(iface);
  return translateAttach({ prog, kind: 'xdp', target: `${iface} (ifindex ${ifindex})` }, () => object.attachXdp(prog, ifindex));
}

/** `cgroup` is an open fd or a cgroup directory ('/sys/fs/cgroup/my.slice'). */
export function attachCgroup(object: NativeObject, prog: string, cgroup: number | string): NativeLink {
  requireProgram(object, prog);
  return withFd(cgroup, (fd) => translateAttach({ prog, kind: 'cgroup', target: String(cgroup) }, () => object.attachCgroup(prog, fd)));
}

/** `netns` is an open fd or a namespace file ('/proc/self/ns/net', '/run/netns/NAME'). */
export function attachNetns(object: NativeObject, prog: string, netns: number | string): NativeLink {
  requireProgram(object, prog);
  return withFd(netns, (fd) => translateAttach({ prog, kind: 'netns', target: String(netns) }, () => object.attachNetns(prog, fd)));
}

export function interfaceIndex(name: string): number {
  try {
    return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
  } catch (cause) {
    throw new LbcError('LBC_ERR_ATTACH_TARGET', `no network interface named ${JSON.stringify(name)} (ip link lists them)`, { target: name }, { cause });
  }
}

// The kernel takes its own reference at attach: a path's fd is only needed for the call.
function withFd<T>(target: number | string, use: (fd: number) => T): T {
  if (typeof target === 'number') return use(target);
  let fd: number;
  try {
    fd = openSync(target, 'r');
  } catch (cause) {
    throw new LbcError('LBC_ERR_ATTACH', `cannot open ${target}`, { target }, { cause });
  }
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}
