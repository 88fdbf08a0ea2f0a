/**
 * Log2 histograms as BPF tools build them and print them: slot i counts values in
 * [2^i, 2^(i+1)) (slot 0 holds 0 and 1, libbpf-tools' log2l convention); the text layout is
 * bcc's print_log2_hist.
 */
import type { MapEntry } from './key-value-ops.ts';

const STARS_MAX = 40;

function toCount(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

/** A value that is itself a histogram: an integer array, or a struct whose one array member is. */
function slotArray(v: unknown): number[] | undefined {
  const asCounts = (a: unknown) => (Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === 'number' || typeof x === 'bigint') ? a.map(Number) : undefined);
  const direct = asCounts(v);
  if (direct) return direct;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const arrays = Object.values(v).filter((x) => Array.isArray(x));
    if (arrays.length === 1) return asCounts(arrays[0]);
  }
  return undefined;
}

/**
 * Sums entries into slot counts. Keys are slot numbers (or `keyField` of a struct key); values
 * are counts, per-CPU count arrays, or whole histograms (`u32 slots[N]`).
 */
export function log2Slots(entries: readonly MapEntry[], keyField?: string, perCpu = false): number[] {
  const slots: number[] = [];
  const add = (slot: number, n: number) => {
    while (slots.length <= slot) slots.push(0);
    slots[slot] += n;
  };
  for (const { key, value } of entries) {
    const perCpuValues = perCpu && Array.isArray(value) ? value : [value];
    for (const v of perCpuValues) {
      const whole = toCount(v) === undefined ? slotArray(v) : undefined;
      if (whole) {
        whole.forEach((n, i) => add(i, n));
        continue;
      }
      const count = toCount(v);
      const slotValue = keyField ? (key as Record<string, unknown>)?.[keyField] : key;
      if (count === undefined || (typeof slotValue !== 'number' && typeof slotValue !== 'bigint')) {
        throw new TypeError(`hist: expected integer slot keys${keyField ? ` (field ${keyField})` : ''} and integer counts`);
      }
      add(Number(slotValue), count);
    }
  }
  return slots;
}

/** The bar of one row: `width` stars for the largest count. */
export function stars(val: number, valMax: number, width: number): string {
  const n = Math.min(width, Math.floor((width * val) / valMax));
  return '*'.repeat(n);
}

/** How a histogram of `idxMax + 1` slots is laid out: wide columns, and the bar's width. */
export interface HistLayout {
  wide: boolean;
  barWidth: number;
}

/** bcc's print_log2_hist layout for any slot ranges: one row per slot up to the last non-empty one. */
export function formatHistRows(slots: readonly number[], label: string, range: (slot: number) => [bigint, bigint], layout: (idxMax: number) => HistLayout): string {
  let idxMax = -1;
  let valMax = 0;
  slots.forEach((v, i) => {
    if (v > 0) idxMax = i;
    if (v > valMax) valMax = v;
  });
  if (idxMax < 0) return '';
  const { wide, barWidth } = layout(idxMax);
  const w = wide ? 20 : 10;
  const lines = [`${' '.repeat(wide ? 15 : 5)}${label.padEnd(wide ? 29 : 19)} : count     distribution`];
  for (let i = 0; i <= idxMax; i++) {
    const [low, high] = range(i);
    const v = slots[i] ?? 0;
    lines.push(`${String(low).padStart(w)} -> ${String(high).padEnd(w)} : ${String(v).padEnd(8)} |${stars(v, valMax, barWidth).padEnd(barWidth)}|`);
  }
  return `${lines.join('\n')}\n`;
}

export function formatLog2Hist(slots: readonly number[], label = 'value'): string {
  return formatHistRows(
    slots,
    label,
    (i) => {
      const high = (1n << BigInt(i + 1)) - 1n;
      const low = (1n << BigInt(i + 1)) >> 1n;
      return [low === high ? low - 1n : low, high];
    },
    (idxMax) => (idxMax > 32 ? { wide: true, barWidth: STARS_MAX / 2 } : { wide: false, barWidth: STARS_MAX }),
  );
}
