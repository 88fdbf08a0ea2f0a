/**
 * Log10 histograms (pylcc's LBC_HIST10 / hist10_push): slot i counts values in [10^i, 10^(i+1)),
 * slot 0 also holding 0. Printed in the layout of the log2 ones (bcc's print_log2_hist), one row
 * per decade.
 */
import { stars } from './log2-hist.ts';

const STARS_MAX = 40;

export function formatLog10Hist(slots: readonly number[], label = 'value'): string {
  let idxMax = -1;
  let valMax = 0;
  slots.forEach((v, i) => {
    if (v > 0) idxMax = i;
    if (v > valMax) valMax = v;
  });
  if (idxMax < 0) return '';
  const wide = idxMax >= 9;
  const w = wide ? 20 : 10;
  const lines = [`${' '.repeat(wide ? 15 : 5)}${label.padEnd(wide ? 29 : 19)} : count     distribution`];
  for (let i = 0; i <= idxMax; i++) {
    const low = i === 0 ? 0n : 10n ** BigInt(i);
    const high = 10n ** BigInt(i + 1) - 1n;
    const v = slots[i] ?? 0;
    lines.push(`${String(low).padStart(w)} -> ${String(high).padEnd(w)} : ${String(v).padEnd(8)} |${stars(v, valMax, STARS_MAX).padEnd(STARS_MAX)}|`);
  }
  return `${lines.join('\n')}\n`;
}
