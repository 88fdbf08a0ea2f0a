/**
 * char[N] → string: the bytes up to the first NUL (all N without one), read as UTF-8.
 *
 * Strings in events are mostly short ASCII (comm, file and map names). Buffer.toString makes each
 * one in C++, a call that costs more than the rest of a 64-byte record's decoding together; for
 * bytes below 0x80 UTF-8 is the identity, so those strings are made in JS from the bytes with one
 * String.fromCharCode call of exactly their length (a flat string, no concatenation). Any byte
 * >= 0x80 goes to Buffer.toString('utf8'), which decodes multi-byte sequences and replaces invalid
 * ones exactly as before. Long ASCII strings go to Buffer.toString('latin1'), the cheaper C++ path
 * giving the same string.
 */

export type BytesToString = (b: Buffer, o: number, length: number) => string;

/**
 * Longest string made in JS. bench/decode.ts measures the crossover against Buffer.toString:
 * String.fromCharCode of N arguments is ~2.8x faster at 15 bytes, ~1.1-1.3x at 40-48 and slower
 * from ~56; and a switch of many more than 64 cases is too big for V8 to optimise at all, so every
 * length would slow down (a 96-case one took ~170 ns for 15 bytes instead of ~30).
 */
export const JS_STRING_MAX = 40;

/**
 * `String.fromCharCode(b[o], …, b[o + length - 1])` for 0 ≤ length ≤ max, one call of the exact
 * arity per length (generated once: a switch written out by hand would be `max` lines of the same).
 */
export function asciiFromCharCodes(max: number): BytesToString {
  const cases: string[] = [];
  for (let n = 1; n <= max; n++) {
    const args = Array.from({ length: n }, (_, i) => (i === 0 ? 'b[o]' : `b[o + ${i}]`));
    cases.push(`case ${n}: return F(${args.join(', ')});`);
  }
  const body = `switch (n) { case 0: return ''; ${cases.join(' ')} } throw new RangeError('string of ' + n + ' bytes is longer than ${max}');`;
  return new Function('F', `return function fromCharCodes(b, o, n) { ${body} };`)(String.fromCharCode) as BytesToString;
}

const fromCharCodes = asciiFromCharCodes(JS_STRING_MAX);

export function decodeCString(b: Buffer, o: number, n: number): string {
  const end = Math.min(o + n, b.length);
  let e = o;
  let high = 0;
  while (e < end) {
    const c = b[e]!;
    if (c === 0) break;
    high |= c;
    e++;
  }
  if (high >= 0x80) return b.toString('utf8', o, e);
  const length = e - o;
  return length <= JS_STRING_MAX ? fromCharCodes(b, o, length) : b.toString('latin1', o, e);
}
