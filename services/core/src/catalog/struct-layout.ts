/**
 * The layout of a struct or union as pahole and gdb's `ptype /o` show it: every member with its
 * offset and size, nested structs and unions flattened in place (`se.run_node.rb_left`), and the
 * holes the compiler left between members and at the end.
 */
import type { Btf, BtfMember, BtfType } from '@lbc/btf';
import type { StructMember } from '@lbc/contract';
import type { CDeclarations } from './c-declarations.ts';

export interface LayoutSummary {
  size: number;
  memberCount: number;
  holes: number;
  holeBytes: number;
  padding: number;
}

export interface Layout extends LayoutSummary {
  members: StructMember[];
  /** Nested members were left out: the struct reached MAX_FLAT_MEMBERS, or the BTF its total budget. */
  truncated: boolean;
}

type Composite = Extract<BtfType, { kind: 'struct' | 'union' }>;

const MAX_NESTING = 32;
/**
 * Flattening multiplies: a struct of 8 structs of 8 structs ... grows as 8^depth. Real kernels
 * stay far below these (6.18's largest, struct net, flattens to 2,683 members; all together 181k);
 * a hostile BTF is cut here instead of filling the disk.
 */
export const MAX_FLAT_MEMBERS = 20_000;
export const MAX_TOTAL_MEMBERS = 3_000_000;

export function isComposite(t: BtfType): t is Composite {
  return t.kind === 'struct' || t.kind === 'union';
}

export class StructLayouts {
  private total = 0;

  constructor(
    private readonly btf: Btf,
    private readonly c: CDeclarations,
  ) {}

  layout(type: Composite): Layout {
    const members: StructMember[] = [];
    const limit = Math.max(type.members.length, Math.min(MAX_FLAT_MEMBERS, MAX_TOTAL_MEMBERS - this.total));
    const cut = { limit, truncated: false };
    const own = this.walk(type, 0, '', 0, members, cut);
    this.total += members.length;
    return { size: type.size, memberCount: type.members.length, ...own, padding: this.padding(type), members, truncated: cut.truncated };
  }

  /** Appends the members of `type` (placed at `baseBits`) and their nested members; returns this level's holes. */
  private walk(type: Composite, baseBits: number, prefix: string, depth: number, out: StructMember[], cut: { limit: number; truncated: boolean }): { holes: number; holeBytes: number } {
    let holes = 0;
    let holeBytes = 0;
    const ends = type.kind === 'struct' ? this.holesBetween(type) : [];
    type.members.forEach((raw, i) => {
      const m = this.normalizeBitfield(raw);
      const bitOffset = baseBits + m.bitOffset;
      const path = m.name ? (prefix ? `${prefix}.${m.name}` : m.name) : prefix;
      const hole = ends[i] ?? { bytes: 0, bits: 0 };
      if (hole.bytes > 0) {
        holes++;
        holeBytes += hole.bytes;
      }
      const resolved = this.resolveSafe(m.type);
      out.push({
        name: m.name,
        path,
        depth,
        type: this.c.typeName(m.type),
        decl: this.c.declare(m.type, m.name) + (m.bitSize ? `:${m.bitSize}` : ''),
        kind: resolved?.kind ?? 'unknown',
        offset: Math.floor(bitOffset / 8),
        bitOffset,
        bitSize: m.bitSize,
        size: this.sizeSafe(m.type),
        holeAfter: hole.bytes,
        bitHoleAfter: hole.bits,
      });
      if (!resolved || !isComposite(resolved) || depth >= MAX_NESTING) return;
      // Room for this level's remaining direct members is kept: only nested expansion is cut.
      if (out.length + resolved.members.length + (type.members.length - i - 1) > cut.limit) {
        cut.truncated = true;
        return;
      }
      this.walk(resolved, bitOffset, path, depth + 1, out, cut);
    });
    return { holes, holeBytes };
  }

  /** For each member of a struct: the gap between its end and the next member's start. */
  private holesBetween(type: Composite): { bytes: number; bits: number }[] {
    const gaps: { bytes: number; bits: number }[] = [];
    const ms = type.members;
    for (let i = 0; i < ms.length; i++) {
      const next = ms[i + 1] && this.normalizeBitfield(ms[i + 1]!);
      if (!next) {
        gaps.push({ bytes: 0, bits: 0 });
        continue;
      }
      const end = this.endBits(ms[i]!);
      const gap = next.bitOffset - end;
      if (gap <= 0) {
        gaps.push({ bytes: 0, bits: 0 });
        continue;
      }
      // A bitfield's leftover bits up to its storage unit's byte boundary count as a bit hole;
      // whole bytes beyond that are a byte hole (pahole reports them the same way).
      const bits = this.normalizeBitfield(ms[i]!).bitSize ? Math.min(gap, (8 - (end % 8)) % 8) : 0;
      gaps.push({ bytes: Math.floor((gap - bits) / 8), bits: bits + ((gap - bits) % 8) });
    }
    return gaps;
  }

  /** Unused bytes at the end: size minus the furthest member end. */
  private padding(type: Composite): number {
    let end = 0;
    for (const m of type.members) end = Math.max(end, this.endBits(m));
    return Math.max(0, type.size - Math.ceil(end / 8));
  }

  private endBits(raw: BtfMember): number {
    const m = this.normalizeBitfield(raw);
    return m.bitOffset + (m.bitSize || this.sizeSafe(m.type) * 8);
  }

  /**
   * BTF without the kind flag encodes a bitfield in its int type (bits narrower than the int,
   * plus a bit offset); with the flag, in the member. Both come out as the member form.
   */
  private normalizeBitfield(m: BtfMember): BtfMember {
    if (m.bitSize) return m;
    const t = this.resolveSafe(m.type);
    if (t?.kind !== 'int' || t.bits === 0 || t.bits === t.size * 8) return m;
    return { ...m, bitOffset: m.bitOffset + t.bitOffset, bitSize: t.bits };
  }

  private resolveSafe(id: number): BtfType | undefined {
    try {
      return this.btf.resolve(id);
    } catch {
      return undefined;
    }
  }

  /** sizeof, or 0 for what has none (flexible arrays of incomplete types, fwd declarations). */
  private sizeSafe(id: number): number {
    try {
      return this.btf.sizeof(id);
    } catch {
      return 0;
    }
  }
}
