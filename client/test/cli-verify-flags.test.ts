/** `lbc verify`'s setup flags become the request's setup and workload, and a malformed one says the form it wants. */
import { describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { verifySetupOf, verifyWorkloadOf, type VerifySetupFlags } from '../src/cli/verify-flags.ts';

const flags = (over: Partial<VerifySetupFlags> = {}): VerifySetupFlags => ({ set: [], autoload: [], maxEntries: [], fallbacks: true, ...over });
const caught = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('no error');
};

describe('lbc verify flags', () => {
  it('--set, --autoload, --max-entries and --no-fallbacks make the setup a client would apply', () => {
    expect(verifySetupOf(flags())).toBeUndefined();
    expect(
      verifySetupOf(flags({ set: ['target_pid=42', 'mask=0x10', 'neg=-3', 'verbose=true', 'comm=bash', 'big=99999999999999999999'], autoload: ['on_exit=off', 'on_open=on'], maxEntries: ['counts=4096'], fallbacks: false })),
    ).toEqual({
      globals: { target_pid: 42, mask: 16, neg: -3, verbose: true, comm: 'bash', big: '99999999999999999999' },
      autoload: { on_exit: false, on_open: true },
      maxEntries: { counts: 4096 },
      fallbacks: false,
    });
  });

  it('--workload splits like a shell (quotes kept together), --repeat counts it', () => {
    expect(verifyWorkloadOf(flags())).toBeUndefined();
    expect(verifyWorkloadOf(flags({ workload: `sh -c "echo a > /tmp/x" 'b c'`, repeat: '10' }))).toEqual({ command: ['sh', '-c', 'echo a > /tmp/x', 'b c'], repeat: 10 });
  });

  it('a malformed flag is LBC_ERR_BAD_REQUEST naming the form it wants', () => {
    const cases: [Partial<VerifySetupFlags>, RegExp][] = [
      [{ set: ['target_pid'] }, /--set "target_pid": expected NAME=VALUE/],
      [{ autoload: ['on_exit=maybe'] }, /--autoload "on_exit=maybe": expected PROG=on\|off/],
      [{ maxEntries: ['counts=0'] }, /--max-entries "counts=0": expected MAP=N/],
      [{ repeat: '3' }, /--repeat "3": expected a --workload to repeat/],
      [{ workload: 'true', repeat: '5000' }, /--repeat "5000": expected N between 1 and 1000/],
    ];
    for (const [given, message] of cases) {
      const err = caught(() => {
        verifySetupOf(flags(given));
        verifyWorkloadOf(flags(given));
      });
      expect(isLbcError(err, 'LBC_ERR_BAD_REQUEST'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
  });
});
