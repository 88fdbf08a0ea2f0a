/**
 * struct_ops maps (`SEC(".struct_ops") struct tcp_congestion_ops my_cc = { ... }`): registering
 * hands the kernel a table of BPF programs that implement one of its ops interfaces (a TCP
 * congestion control, a sched_ext scheduler ...); destroying the link unregisters it.
 */
import { LbcError } from '@lbc/contract';
import type { NativeLink, NativeObject } from '../native/types.ts';
import { attachError } from './attach-errors.ts';
import { asNativeError } from './native-error.ts';

const BPF_MAP_TYPE_STRUCT_OPS = 26;
const EEXIST = 17;
const EBUSY = 16;

export function attachStructOps(object: NativeObject, mapName: string): NativeLink {
  const maps = object.maps();
  const map = maps.find((m) => m.name === mapName);
  if (!map) throw new LbcError('LBC_ERR_MAP_NOT_FOUND', `${JSON.stringify(mapName)} (maps: ${maps.map((m) => m.name).join(', ') || 'none'})`, { map: mapName });
  if (map.type !== BPF_MAP_TYPE_STRUCT_OPS) {
    const structOps = maps.filter((m) => m.type === BPF_MAP_TYPE_STRUCT_OPS).map((m) => m.name);
    throw new LbcError(
      'LBC_ERR_ATTACH_TARGET',
      `${mapName} is a ${map.typeName} map, not a struct_ops map: only maps declared in SEC(".struct_ops") register` +
        (structOps.length ? ` (this object's: ${structOps.join(', ')})` : ' (this object has none)'),
      { map: mapName, type: map.typeName },
    );
  }
  try {
    return object.attachStructOps(mapName);
  } catch (err) {
    const target = { prog: mapName, kind: 'struct_ops' as const, target: `struct_ops map ${mapName}` };
    const errno = asNativeError(err).errno;
    const why =
      errno === EEXIST
        ? 'the kernel already has ops registered under this name (EEXIST): unregister the other first (bpftool struct_ops list), or rename .name in the C struct'
        : errno === EBUSY
          ? 'this map is registered already, or was (EBUSY): a SEC(".struct_ops") map registers once; open the object again (a new Lbc) to register anew'
          : undefined;
    if (why === undefined) throw attachError(err, target);
    throw new LbcError('LBC_ERR_ATTACH', `${mapName}: ${why}`, { map: mapName, errno }, { cause: err });
  }
}
