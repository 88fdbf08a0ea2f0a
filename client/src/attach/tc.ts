/**
 * TC programs (SEC("tc"), SEC("tcx/ingress"), SEC("tcx/egress")) on a network interface: a tcx
 * link where the kernel has tcx (Linux 6.6+; detached when the link closes, other programs on the
 * interface untouched), else a direct-action filter on the interface's clsact qdisc, as
 * libbpf's bpf_tc_attach makes it (detached with bpf_tc_detach; a qdisc lbc made goes too).
 */
import type { NativeLink, NativeObject } from '../native/types.ts';
import { loadNative } from '../native/index.ts';
import { attachError, translateAttach } from './attach-errors.ts';
import { asNativeError } from './native-error.ts';
import { interfaceIndex } from './network.ts';
import { requireProgram } from './program-lookup.ts';
import { requireKind } from './program-kind.ts';

const TC_SECTION = /^(tc|classifier|tcx\/(ingress|egress))(\/|$)/;
const EINVAL = 22;

export interface TcOptions {
  /** Default: the section's (tcx/egress → egress), else ingress. */
  direction?: 'ingress' | 'egress';
  /** Default: tcx, falling back to clsact on kernels without it. */
  mode?: 'tcx' | 'clsact';
}

export interface TcLink extends NativeLink {
  /** How it was attached. */
  readonly mode: 'tcx' | 'clsact';
}

/** `iface` is an ifindex or an interface name ('eth0'). */
export function attachTc(object: NativeObject, prog: string, iface: number | string, opts: TcOptions = {}): TcLink {
  const info = requireProgram(object, prog);
  requireKind(info, TC_SECTION, 'attachTc()', 'TC program');
  const ifindex = typeof iface === 'number' ? iface : interfaceIndex(iface);
  const egress = (opts.direction ?? (info.section === 'tcx/egress' ? 'egress' : 'ingress')) === 'egress';
  const where = `${iface} (ifindex ${ifindex}) ${egress ? 'egress' : 'ingress'}`;
  if (opts.mode !== 'clsact') {
    try {
      return tcxLink(object.attachTcx(prog, ifindex, egress));
    } catch (err) {
      // EINVAL: a kernel without tcx does not know the attach type; anything else is the answer.
      if (opts.mode === 'tcx' || asNativeError(err).errno !== EINVAL) throw attachError(err, { prog, kind: 'tc', target: `${where} (tcx)` });
    }
  }
  const filter = translateAttach({ prog, kind: 'tc', target: `${where} (clsact)` }, () => object.attachTcHook(prog, ifindex, egress));
  let attached = true;
  return {
    mode: 'clsact',
    destroy() {
      if (!attached) return;
      attached = false;
      loadNative().detachTcHook(ifindex, egress, filter.handle, filter.priority, filter.createdHook);
    },
    fd: () => -1,
  };
}

function tcxLink(fd: number): TcLink {
  let open = true;
  return {
    mode: 'tcx',
    destroy() {
      if (!open) return;
      open = false;
      loadNative().closeFd(fd);
    },
    fd: () => (open ? fd : -1),
  };
}
