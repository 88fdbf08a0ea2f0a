import { describe, expect, it } from 'vitest';
import { UnrecoverableError } from 'bullmq';
import { LbcError } from '@lbc/contract';
import { hostPathScrub } from '@lbc/core';
import { publicError, publicResult } from '../src/public-output.ts';

const DATA = '/srv/lbc-data';
const scrub = hostPathScrub({ [DATA]: '<data>' });
const keepQuoted = hostPathScrub({ [DATA]: '<data>' }, { keepQuotedPaths: true });

describe('what a worker hands to BullMQ', () => {
  it('a fault keeps its name and message, without host paths and without stack frames', () => {
    const err = new LbcError('LBC_ERR_SANDBOX', `starting a sandbox container: mkdir '${DATA}/jobs/job-a1/src/q'`);
    const out = publicError(err, scrub);
    expect(out.message).toBe("The compile sandbox failed: starting a sandbox container: mkdir '<job>/src/q'");
    expect(out.name).toBe('LbcError');
    expect(out.stack).toBe(`LbcError: ${out.message}`);
    expect(JSON.stringify([out.message, out.stack])).not.toContain(DATA);
  });

  it('an unrecoverable fault stays unrecoverable (BullMQ does not retry it)', () => {
    const out = publicError(new UnrecoverableError(`LBC_ERR_BTF_INVALID: ${DATA}/x`), scrub);
    expect(out).toBeInstanceOf(UnrecoverableError);
    expect(out.message).toBe('LBC_ERR_BTF_INVALID: <data>/x');
  });

  it('a result keeps its object references and loses host paths from its texts', () => {
    const minBtf = { sha256: 'b', size: 2 };
    const ok = publicResult({ ok: true, sha256: 'a', size: 1, minBtf, warnings: `w ${DATA}/k`, compileMs: 1, minBtfError: `bpftool: '${DATA}/x'` }, scrub, keepQuoted);
    expect(ok).toEqual({ ok: true, sha256: 'a', size: 1, minBtf, warnings: 'w <data>/k', compileMs: 1, minBtfError: "bpftool: '<data>/x'" });
    const failed = publicResult({ ok: false, code: 'LBC_ERR_COMPILE', diagnostics: `'/etc/x' file not found ${DATA}/jobs/job-2/src` }, scrub, keepQuoted);
    expect(failed).toEqual({ ok: false, code: 'LBC_ERR_COMPILE', diagnostics: "'/etc/x' file not found <job>/src" });
  });
});
