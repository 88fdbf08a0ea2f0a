/**
 * Log10 histograms (pylcc's LBC_HIST10 / hist10_push): slot i counts values in [10^i, 10^(i+1)),
 * slot 0 also holding 0. Printed in the layout of the log2 ones (bcc's print_log2_hist), one row
 * per decade.
 */
import { formatHistRows } from './log2-hist.ts';

const STARS_MAX = 40;

export function formatLog10Hist(slots: readonly number[], label = 'value'): string {
  return formatHistRows(
    slots,
    label,
    (i) => [i === 0 ? 0n : 10n ** BigInt(i), 10n ** BigInt(i + 1) - 1n],
    (idxMax) => ({ wide: idxMax >= 9, barWidth: STARS_MAX }),
  );
}
