/**
 * surftrace's naming conventions: a variable named ip_* is an IPv4 address (printed dotted),
 * b16_/b32_/b64_* are big-endian numbers printed in decimal, B16_/B32_/B64_* the same in hex.
 * The probe reads raw unsigned bytes; conversion happens on output, and on filter literals.
 */
export interface Conversion {
  kind: 'ip' | 'swap';
  bits: 16 | 32 | 64;
  hex: boolean;
}

export function conversionOf(name: string): Conversion | undefined {
  if (name.startsWith('ip_')) return { kind: 'ip', bits: 32, hex: false };
  const m = /^([bB])(16|32|64)_/.exec(name);
  if (m) return { kind: 'swap', bits: Number(m[2]) as 16 | 32 | 64, hex: m[1] === 'B' };
  return undefined;
}

function swap(value: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((value >> BigInt(i * 8)) & 0xffn);
  return out;
}

/** A value as the probe printed it (decimal or 0x hex) → what the user wants to read. */
export function formatValue(c: Conversion, raw: string): string {
  let v: bigint;
  try {
    v = BigInt(raw);
  } catch {
    return raw;
  }
  if (c.kind === 'ip') return [0, 8, 16, 24].map((s) => Number((v >> BigInt(s)) & 0xffn)).join('.');
  const swapped = swap(v, c.bits);
  return c.hex ? `0x${swapped.toString(16)}` : swapped.toString();
}

/** A literal as the user wrote it in a filter (127.0.0.1, 80) → the raw value the probe records. */
export function rawLiteral(c: Conversion, literal: string): string | undefined {
  if (c.kind === 'ip') {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(literal);
    if (!m) return undefined;
    const bytes = m.slice(1).map(Number);
    if (bytes.some((b) => b > 255)) return undefined;
    const v = bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
    return `0x${v.toString(16)}`;
  }
  let v: bigint;
  try {
    v = BigInt(literal);
  } catch {
    return undefined;
  }
  return `0x${swap(v, c.bits).toString(16)}`;
}
