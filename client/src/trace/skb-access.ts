/**
 * surftrace's packet parsing: `@(struct iphdr *)l3%0->saddr` reads the header at skb->data, where
 * l2/l3/l4 says which layer skb->data points at in the probed function (default l3). Headers of
 * lower layers are skipped by their size (IPv4 without options). Every header also has the
 * pseudo-members cdata/sdata/ldata/qdata[i] (1/2/4/8-byte words of what follows it) and Sdata[i] (a string).
 */
import type { Btf } from '@lbc/btf';
import type { Access, Cast } from './ast.ts';
import { deref, type Location } from './fetch-location.ts';
import { didYouMean, traceError } from './trace-error.ts';
import { findMember, lookupType, memberNames, type TypeRef } from './type-view.ts';

const LAYER_OF: Record<string, 2 | 3 | 4> = { ethhdr: 2, iphdr: 3, icmphdr: 4, tcphdr: 4, udphdr: 4 };
const PAYLOAD: Record<string, { bytes: number; type: string }> = {
  cdata: { bytes: 1, type: 'unsigned char' },
  sdata: { bytes: 2, type: 'short unsigned int' },
  ldata: { bytes: 4, type: 'unsigned int' },
  qdata: { bytes: 8, type: 'long long unsigned int' },
  Sdata: { bytes: 1, type: 'char' },
};

export interface SkbResult {
  loc: Location;
  type: TypeRef;
  /** Sdata[i]: the payload from byte i on, printed as a string. */
  string?: boolean;
  /** The accesses after the ones consumed here. */
  rest: Access[];
}

export function resolveSkbAccess(btf: Btf, skb: Location, cast: Extract<Cast, { kind: 'skb' }>, chain: Access[], line: string): SkbResult {
  const fail = (code: 'LBC_ERR_TRACE_TYPE' | 'LBC_ERR_TRACE_UNKNOWN' | 'LBC_ERR_TRACE_SYNTAX', what: string, span = cast.span): never => {
    throw traceError(code, what, line, span);
  };
  const access = chain[0];
  if (!access || access.op !== '->') return fail('LBC_ERR_TRACE_SYNTAX', `@(${cast.type}) must be followed by ->member`);
  const name = /^struct (\w+) ?\*$/.exec(cast.type)?.[1];
  const headerLayer = name ? LAYER_OF[name] : undefined;
  if (!name || headerLayer === undefined) {
    return fail('LBC_ERR_TRACE_TYPE', `skb parsing reads struct ethhdr *, iphdr *, icmphdr *, tcphdr * or udphdr *, not '${cast.type}'`);
  }
  if (headerLayer < cast.layer) fail('LBC_ERR_TRACE_TYPE', `cannot read struct ${name} at layer ${cast.layer}: skb->data is already past it`);
  const header = lookupType(btf, `struct ${name}`) ?? fail('LBC_ERR_TRACE_UNKNOWN', `this kernel's BTF has no struct ${name}`);
  const skbType = lookupType(btf, 'struct sk_buff') ?? fail('LBC_ERR_TRACE_UNKNOWN', "this kernel's BTF has no struct sk_buff");
  const dataMember = findMember(btf, skbType.id, 'data') ?? fail('LBC_ERR_TRACE_UNKNOWN', "struct sk_buff has no member 'data' in this kernel");

  // Skip the headers between where skb->data points and the wanted one.
  const sizeOf = (struct: string) => btf.sizeof((lookupType(btf, `struct ${struct}`) ?? fail('LBC_ERR_TRACE_UNKNOWN', `no struct ${struct}`)).id);
  let skip = 0;
  if (cast.layer === 2 && headerLayer >= 3) skip += sizeOf('ethhdr');
  if (cast.layer <= 3 && headerLayer === 4) skip += sizeOf('iphdr');
  const data = deref(skb, dataMember.bitOffset / 8);

  const payload = PAYLOAD[access.member];
  if (payload) {
    const index = chain[1];
    if (!index || index.op !== '[]') return fail('LBC_ERR_TRACE_SYNTAX', `${access.member} needs an index: ${access.member}[i]`, access.span);
    const elem = lookupType(btf, payload.type) ?? fail('LBC_ERR_TRACE_UNKNOWN', `no type '${payload.type}' in this kernel's BTF`, access.span);
    const loc = deref(data, skip + btf.sizeof(header.id) + index.index * payload.bytes);
    return { loc, type: elem, string: access.member === 'Sdata', rest: chain.slice(2) };
  }
  const member = findMember(btf, header.id, access.member);
  if (!member) {
    return fail('LBC_ERR_TRACE_UNKNOWN', `unknown member '${access.member}' of struct ${name}${didYouMean(access.member, [...memberNames(btf, header.id), ...Object.keys(PAYLOAD)])}`, access.span);
  }
  return { loc: deref(data, skip + member.bitOffset / 8), type: { id: member.type, ptr: 0 }, rest: chain.slice(1) };
}
