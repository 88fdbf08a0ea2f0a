/** The slow tier's gate: its tests run with LBC_SLOW=1 only, and say on stderr what they skipped otherwise. */
export function slowTier(testFile: string, what: string): boolean {
  const slow = process.env.LBC_SLOW === '1';
  if (!slow) process.stderr.write(`${testFile}: slow tier skipped; LBC_SLOW=1 ${what}\n`);
  return slow;
}
