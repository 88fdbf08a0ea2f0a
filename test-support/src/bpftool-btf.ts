/** bpftool's JSON dump of a BTF file: an independent oracle for what lbc's own BTF parser reads. */
import { execFileSync } from 'node:child_process';

/** One type record as `bpftool -j btf dump file` prints it (ids start at 1: record id is at index id - 1). */
export interface BpftoolType {
  id: number;
  kind: string;
  name: string;
  size?: number;
  type_id?: number;
  nr_elems?: number;
  ret_type_id?: number;
  members?: { name: string; type_id: number; bits_offset: number; bitfield_size?: number }[];
  params?: { name: string; type_id: number }[];
}

/** All type records of the BTF at `btfPath` (the running kernel's by default). */
export function bpftoolTypes(btfPath = '/sys/kernel/btf/vmlinux'): BpftoolType[] {
  const json = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', btfPath], { maxBuffer: 1 << 30 });
  return (JSON.parse(json.toString()) as { types: BpftoolType[] }).types;
}
