import { describe, expect, it } from 'vitest';
import { hostPathScrub, scrubStrings } from '../src/index.ts';

const DATA = '/srv/lbc-data';

describe('host path scrub', () => {
  const scrub = hostPathScrub({ [DATA]: '<data>' });

  it("turns a job directory (under any data dir) and the data dir into neutral names", () => {
    expect(scrub(`EEXIST: file already exists, mkdir '${DATA}/jobs/job-Ab12Cd/src/q'`)).toBe("EEXIST: file already exists, mkdir '<job>/src/q'");
    expect(scrub('ENOSPC at /other/host/dir/jobs/job-x9/out/a.o and more')).toBe('ENOSPC at <job>/out/a.o and more');
    expect(scrub(`kernel set ${DATA}/kernel-sets/abc is missing`)).toBe('kernel set <data>/kernel-sets/abc is missing');
  });

  it('hides any absolute path an error quotes, unless told to keep quoted paths (a compiler naming the user\'s own paths)', () => {
    expect(scrub("ENOENT: no such file or directory, open '/var/lib/x/y'")).toBe("ENOENT: no such file or directory, open '<path>'");
    const diagnostics = hostPathScrub({ [DATA]: '<data>' }, { keepQuotedPaths: true });
    expect(diagnostics("fatal error: '/etc/passwd' file not found")).toBe("fatal error: '/etc/passwd' file not found");
    expect(diagnostics(`x ${DATA}/jobs/job-1/src/a.h`)).toBe('x <job>/src/a.h');
  });

  it('is linear on long path-like text', () => {
    const text = '/a'.repeat(200_000);
    const started = performance.now();
    expect(scrub(`${text}/jobs/job-1`)).toBe('<job>');
    expect(scrub(text)).toBe(text);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('takes a root only as a whole path', () => {
    const short = hostPathScrub({ '/data': '<data>' });
    expect(short('GET /v1/kernels/database; /data/jobs.db; /data; /srv/data/x; (/data)')).toBe('GET /v1/kernels/database; <data>/jobs.db; <data>; /srv/data/x; (<data>)');
    expect(hostPathScrub({ '/srv/x/': '<data>' })('at /srv/x/a')).toBe('at <data>/a');
  });

  it('reaches every string of an error body', () => {
    const body = { error: { code: 'X', message: `at ${DATA}/a`, details: { paths: [`${DATA}/b`], n: 1 } } };
    expect(scrubStrings(body, scrub)).toEqual({ error: { code: 'X', message: 'at <data>/a', details: { paths: ['<data>/b'], n: 1 } } });
  });
});
