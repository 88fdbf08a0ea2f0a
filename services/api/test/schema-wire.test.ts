/**
 * The wire behaviour of the /v1 schemas (defined once in @lbc/contract/schemas): which bodies,
 * queries and path parameters pass validation, and the status, code and message of each refusal.
 * The expected answers are what the API answered before its schemas moved to the contract (the
 * hand-written JSON schemas of services/api/src/schemas.ts); a schema that changes what the
 * service accepts or how it says no fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompileRequestSchema, VerifyRequestSchema } from '@lbc/contract/schemas';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';

const base = { name: 'p', source: 'int x;', target: { release: '6.1.0-1-amd64', arch: 'x86_64' } };
const vbase = { name: 'p', source: 'int x;', kernels: ['6.1.0-1-amd64'] };
const many = (n: number, v: unknown) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, v]));
type Case = { label: string; method: 'GET' | 'POST' | 'PUT'; url: string; body?: unknown };
const compile = (label: string, body: unknown): Case => ({ label: `compile ${label}`, method: 'POST', url: '/v1/compile', body });
const verify = (label: string, body: unknown): Case => ({ label: `verify ${label}`, method: 'POST', url: '/v1/verify', body });
const get = (label: string, url: string): Case => ({ label, method: 'GET', url });
const CASES: Case[] = [
  compile('valid minimal', base),
  compile('valid full', { ...base, includes: { 'a.h': '' }, cflags: ['-DX=1'], waitMs: 0, minBtf: true, header: 'core', target: { release: '6.1.0-1-amd64', arch: 'aarch64', btfSha256: 'a'.repeat(64), distro: '' } }),
  compile('valid no arch', { ...base, target: { release: '6.1.0-1-amd64' } }),
  compile('missing name', { source: 'x', target: base.target }),
  compile('missing source', { name: 'p', target: base.target }),
  compile('missing target', { name: 'p', source: 'x' }),
  compile('extra field', { ...base, foo: 1 }),
  compile('name pattern', { ...base, name: '1bad' }),
  compile('name long', { ...base, name: 'a'.repeat(65) }),
  compile('name number', { ...base, name: 5 }),
  compile('source number', { ...base, source: 5 }),
  compile('release empty', { ...base, target: { release: '' } }),
  compile('release long', { ...base, target: { release: 'a'.repeat(129) } }),
  compile('release chars', { ...base, target: { release: 'a/b' } }),
  compile('release missing', { ...base, target: { arch: 'x86_64' } }),
  compile('arch unknown', { ...base, target: { release: 'r', arch: 'mips' } }),
  compile('btfSha256 short', { ...base, target: { release: 'r', btfSha256: 'abc' } }),
  compile('btfSha256 upper', { ...base, target: { release: 'r', btfSha256: 'A'.repeat(64) } }),
  compile('distro chars', { ...base, target: { release: 'r', distro: 'a b' } }),
  compile('distro long', { ...base, target: { release: 'r', distro: 'a'.repeat(65) } }),
  compile('target extra', { ...base, target: { release: 'r', kernel: 1 } }),
  compile('target string', { ...base, target: 'r' }),
  compile('includes value number', { ...base, includes: { 'a.h': 5 } }),
  compile('includes array', { ...base, includes: ['a.h'] }),
  compile('cflags string', { ...base, cflags: '-DX' }),
  compile('cflags item number', { ...base, cflags: [1] }),
  compile('waitMs negative', { ...base, waitMs: -1 }),
  compile('waitMs fraction', { ...base, waitMs: 1.5 }),
  compile('waitMs string', { ...base, waitMs: '5' }),
  compile('minBtf string', { ...base, minBtf: 'yes' }),
  compile('header unknown', { ...base, header: 'both' }),
  compile('body array', [base]),
  compile('body string', 'x'),
  compile('body null', null),
  verify('valid', vbase),
  verify('valid full', { ...vbase, includes: { 'a.h': '' }, cflags: ['-DX'], allBootable: false, waitMs: 0, setup: { globals: { a: 1, b: 'x', c: true }, autoload: { p: false }, maxEntries: { m: 1 }, fallbacks: true, twins: { a: 'b' } }, workload: { command: ['true'], repeat: 2 } }),
  verify('missing source', { name: 'p', kernels: ['6.1.0-1-amd64'] }),
  verify('missing name', { source: 'x', kernels: ['6.1.0-1-amd64'] }),
  verify('target not taken', { ...vbase, target: base.target }),
  verify('minBtf not taken', { ...vbase, minBtf: true }),
  verify('kernels too many', { ...vbase, kernels: Array.from({ length: 33 }, (_, i) => `6.1.${i}-x`) }),
  verify('kernel short', { ...vbase, kernels: ['abc'] }),
  verify('kernel long', { ...vbase, kernels: ['a'.repeat(129)] }),
  verify('kernel chars', { ...vbase, kernels: ['6.1 0'] }),
  verify('kernels string', { ...vbase, kernels: '6.1.0' }),
  verify('allBootable string', { ...vbase, allBootable: 'yes' }),
  verify('setup extra', { ...vbase, setup: { other: 1 } }),
  verify('setup array', { ...vbase, setup: [] }),
  verify('globals object value', { ...vbase, setup: { globals: { a: {} } } }),
  verify('globals string long', { ...vbase, setup: { globals: { a: 'x'.repeat(4097) } } }),
  verify('globals null', { ...vbase, setup: { globals: { a: null } } }),
  verify('globals too many', { ...vbase, setup: { globals: many(257, 1) } }),
  verify('globals key long', { ...vbase, setup: { globals: { ['k'.repeat(257)]: 1 } } }),
  verify('autoload string', { ...vbase, setup: { autoload: { p: 'no' } } }),
  verify('maxEntries zero', { ...vbase, setup: { maxEntries: { m: 0 } } }),
  verify('maxEntries huge', { ...vbase, setup: { maxEntries: { m: 2 ** 32 } } }),
  verify('maxEntries fraction', { ...vbase, setup: { maxEntries: { m: 1.5 } } }),
  verify('fallbacks string', { ...vbase, setup: { fallbacks: 'no' } }),
  verify('twins long', { ...vbase, setup: { twins: { a: 'b'.repeat(257) } } }),
  verify('twins number', { ...vbase, setup: { twins: { a: 1 } } }),
  verify('workload missing command', { ...vbase, workload: { repeat: 1 } }),
  verify('workload empty command', { ...vbase, workload: { command: [] } }),
  verify('workload command too many', { ...vbase, workload: { command: Array(33).fill('x') } }),
  verify('workload arg empty', { ...vbase, workload: { command: [''] } }),
  verify('workload arg long', { ...vbase, workload: { command: ['x'.repeat(4097)] } }),
  verify('workload repeat 0', { ...vbase, workload: { command: ['x'], repeat: 0 } }),
  verify('workload repeat 1001', { ...vbase, workload: { command: ['x'], repeat: 1001 } }),
  verify('workload extra', { ...vbase, workload: { command: ['x'], env: {} } }),
  verify('waitMs negative', { ...vbase, waitMs: -1 }),
  verify('header unknown', { ...vbase, header: 'x' }),
  get('job id bad', '/v1/jobs/compile-xyz'),
  get('job id unknown', `/v1/jobs/compile-${'a'.repeat(64)}`),
  get('verify id bad', '/v1/verify/xyz'),
  get('kernels arch bad', '/v1/kernels?arch=mips'),
  get('kernels release bad', '/v1/kernels?release=a/b'),
  get('kernels release wildcard', '/v1/kernels?release=6.1*'),
  get('kernels extra', '/v1/kernels?foo=1'),
  get('kernels distro bad', '/v1/kernels?distro=a%20b'),
  get('btf sha bad', '/v1/kernels/xyz/btf'),
  get('artifact sha bad', '/v1/artifacts/xyz'),
  get('artifact unknown', `/v1/artifacts/${'a'.repeat(64)}`),
  { label: 'kernel put no arch', method: 'PUT', url: `/v1/kernels/${'a'.repeat(64)}?release=6.1.0-1-amd64`, body: undefined },
  get('struct id short', '/v1/kernels/abc/structs/task_struct'),
  get('struct name bad', '/v1/kernels/abcd/structs/1x'),
  get('struct depth bad', '/v1/kernels/abcd/structs/task_struct?depth=x'),
  get('funcs limit bad', '/v1/kernels/abcd/funcs?limit=x'),
  get('funcs extra', '/v1/kernels/abcd/funcs?other=x'),
  get('limits', '/v1/limits'),
];

/** [status, code, message without the code's own sentence] as the API answered before. */
const BEFORE: Record<string, [number, string | null, string | null]> = {
  "compile valid minimal": [404, "LBC_ERR_KERNEL_UNKNOWN", "The service knows no kernel set for this target: 6.1.0-1-amd64 x86_64"],
  "compile valid full": [404, "LBC_ERR_KERNEL_UNKNOWN", "The service knows no kernel set for this target: btfSha256 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (aarch64)"],
  "compile valid no arch": [404, "LBC_ERR_KERNEL_UNKNOWN", "The service knows no kernel set for this target: 6.1.0-1-amd64 (any arch)"],
  "compile missing name": [400, "LBC_ERR_BAD_REQUEST", "body/name must have required property 'name'"],
  "compile missing source": [400, "LBC_ERR_BAD_REQUEST", "body/source must have required property 'source'"],
  "compile missing target": [400, "LBC_ERR_BAD_REQUEST", "body/target must have required property 'target'"],
  "compile extra field": [400, "LBC_ERR_BAD_REQUEST", "body must NOT have additional properties"],
  "compile name pattern": [400, "LBC_ERR_BAD_REQUEST", "body/name must match pattern \"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$\""],
  "compile name long": [400, "LBC_ERR_BAD_REQUEST", "body/name must match pattern \"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$\""],
  "compile name number": [400, "LBC_ERR_BAD_REQUEST", "body/name must be string"],
  "compile source number": [400, "LBC_ERR_BAD_REQUEST", "body/source must be string"],
  "compile release empty": [400, "LBC_ERR_BAD_REQUEST", "body/target/release must NOT have fewer than 1 characters"],
  "compile release long": [400, "LBC_ERR_BAD_REQUEST", "body/target/release must NOT have more than 128 characters"],
  "compile release chars": [400, "LBC_ERR_BAD_REQUEST", "body/target/release must match pattern \"^[A-Za-z0-9._+~-]+$\""],
  "compile release missing": [400, "LBC_ERR_BAD_REQUEST", "body/target/release must have required property 'release'"],
  "compile arch unknown": [400, "LBC_ERR_BAD_REQUEST", "body/target/arch must be equal to one of the allowed values"],
  "compile btfSha256 short": [400, "LBC_ERR_BAD_REQUEST", "body/target/btfSha256 must match pattern \"^[0-9a-f]{64}$\""],
  "compile btfSha256 upper": [400, "LBC_ERR_BAD_REQUEST", "body/target/btfSha256 must match pattern \"^[0-9a-f]{64}$\""],
  "compile distro chars": [400, "LBC_ERR_BAD_REQUEST", "body/target/distro must match pattern \"^[A-Za-z0-9._-]*$\""],
  "compile distro long": [400, "LBC_ERR_BAD_REQUEST", "body/target/distro must NOT have more than 64 characters"],
  "compile target extra": [400, "LBC_ERR_BAD_REQUEST", "body/target must NOT have additional properties"],
  "compile target string": [400, "LBC_ERR_BAD_REQUEST", "body/target must be object"],
  "compile includes value number": [400, "LBC_ERR_BAD_REQUEST", "body/includes/a.h must be string"],
  "compile includes array": [400, "LBC_ERR_BAD_REQUEST", "body/includes must be object"],
  "compile cflags string": [400, "LBC_ERR_BAD_REQUEST", "body/cflags must be array"],
  "compile cflags item number": [400, "LBC_ERR_BAD_REQUEST", "body/cflags/0 must be string"],
  "compile waitMs negative": [400, "LBC_ERR_BAD_REQUEST", "body/waitMs must be >= 0"],
  "compile waitMs fraction": [400, "LBC_ERR_BAD_REQUEST", "body/waitMs must be integer"],
  "compile waitMs string": [400, "LBC_ERR_BAD_REQUEST", "body/waitMs must be integer"],
  "compile minBtf string": [400, "LBC_ERR_BAD_REQUEST", "body/minBtf must be boolean"],
  "compile header unknown": [400, "LBC_ERR_BAD_REQUEST", "body/header must be equal to one of the allowed values"],
  "compile body array": [400, "LBC_ERR_BAD_REQUEST", "body must be object"],
  "compile body string": [400, "LBC_ERR_BAD_REQUEST", "Body is not valid JSON but content-type is set to 'application/json'"],
  "compile body null": [400, "LBC_ERR_BAD_REQUEST", "Body cannot be empty when content-type is set to 'application/json'"],
  "verify valid": [404, "LBC_ERR_KERNEL_UNKNOWN", "The service knows no kernel set for this target: no kernel with BTF sha256, sha256 prefix or release \"6.1.0-1-amd64\""],
  "verify valid full": [404, "LBC_ERR_KERNEL_UNKNOWN", "The service knows no kernel set for this target: no kernel with BTF sha256, sha256 prefix or release \"6.1.0-1-amd64\""],
  "verify missing source": [400, "LBC_ERR_BAD_REQUEST", "body/source must have required property 'source'"],
  "verify missing name": [400, "LBC_ERR_BAD_REQUEST", "body/name must have required property 'name'"],
  "verify target not taken": [400, "LBC_ERR_BAD_REQUEST", "body must NOT have additional properties"],
  "verify minBtf not taken": [400, "LBC_ERR_BAD_REQUEST", "body must NOT have additional properties"],
  "verify kernels too many": [400, "LBC_ERR_BAD_REQUEST", "body/kernels must NOT have more than 32 items"],
  "verify kernel short": [400, "LBC_ERR_BAD_REQUEST", "body/kernels/0 must NOT have fewer than 4 characters"],
  "verify kernel long": [400, "LBC_ERR_BAD_REQUEST", "body/kernels/0 must NOT have more than 128 characters"],
  "verify kernel chars": [400, "LBC_ERR_BAD_REQUEST", "body/kernels/0 must match pattern \"^[A-Za-z0-9._+~-]+$\""],
  "verify kernels string": [400, "LBC_ERR_BAD_REQUEST", "body/kernels must be array"],
  "verify allBootable string": [400, "LBC_ERR_BAD_REQUEST", "body/allBootable must be boolean"],
  "verify setup extra": [400, "LBC_ERR_BAD_REQUEST", "body/setup must NOT have additional properties"],
  "verify setup array": [400, "LBC_ERR_BAD_REQUEST", "body/setup must be object"],
  "verify globals object value": [400, "LBC_ERR_BAD_REQUEST", "body/setup/globals/a must be number"],
  "verify globals string long": [400, "LBC_ERR_BAD_REQUEST", "body/setup/globals/a must be number"],
  "verify globals null": [400, "LBC_ERR_BAD_REQUEST", "body/setup/globals/a must be number"],
  "verify globals too many": [400, "LBC_ERR_BAD_REQUEST", "body/setup/globals must NOT have more than 256 properties"],
  "verify globals key long": [400, "LBC_ERR_BAD_REQUEST", "body/setup/globals must NOT have more than 256 characters"],
  "verify autoload string": [400, "LBC_ERR_BAD_REQUEST", "body/setup/autoload/p must be boolean"],
  "verify maxEntries zero": [400, "LBC_ERR_BAD_REQUEST", "body/setup/maxEntries/m must be >= 1"],
  "verify maxEntries huge": [400, "LBC_ERR_BAD_REQUEST", "body/setup/maxEntries/m must be <= 4294967295"],
  "verify maxEntries fraction": [400, "LBC_ERR_BAD_REQUEST", "body/setup/maxEntries/m must be integer"],
  "verify fallbacks string": [400, "LBC_ERR_BAD_REQUEST", "body/setup/fallbacks must be boolean"],
  "verify twins long": [400, "LBC_ERR_BAD_REQUEST", "body/setup/twins/a must NOT have more than 256 characters"],
  "verify twins number": [400, "LBC_ERR_BAD_REQUEST", "body/setup/twins/a must be string"],
  "verify workload missing command": [400, "LBC_ERR_BAD_REQUEST", "body/workload/command must have required property 'command'"],
  "verify workload empty command": [400, "LBC_ERR_BAD_REQUEST", "body/workload/command must NOT have fewer than 1 items"],
  "verify workload command too many": [400, "LBC_ERR_BAD_REQUEST", "body/workload/command must NOT have more than 32 items"],
  "verify workload arg empty": [400, "LBC_ERR_BAD_REQUEST", "body/workload/command/0 must NOT have fewer than 1 characters"],
  "verify workload arg long": [400, "LBC_ERR_BAD_REQUEST", "body/workload/command/0 must NOT have more than 4096 characters"],
  "verify workload repeat 0": [400, "LBC_ERR_BAD_REQUEST", "body/workload/repeat must be >= 1"],
  "verify workload repeat 1001": [400, "LBC_ERR_BAD_REQUEST", "body/workload/repeat must be <= 1000"],
  "verify workload extra": [400, "LBC_ERR_BAD_REQUEST", "body/workload must NOT have additional properties"],
  "verify waitMs negative": [400, "LBC_ERR_BAD_REQUEST", "body/waitMs must be >= 0"],
  "verify header unknown": [400, "LBC_ERR_BAD_REQUEST", "body must NOT have additional properties"],
  "job id bad": [400, "LBC_ERR_BAD_REQUEST", "params/id must match pattern \"^compile-[0-9a-f]{64}$\""],
  "job id unknown": [404, "LBC_ERR_JOB_NOT_FOUND", "No such job: compile-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
  "verify id bad": [400, "LBC_ERR_BAD_REQUEST", "params/id must match pattern \"^verify-[0-9a-f]{64}$\""],
  "kernels arch bad": [400, "LBC_ERR_BAD_REQUEST", "querystring/arch must be equal to one of the allowed values"],
  "kernels release bad": [400, "LBC_ERR_BAD_REQUEST", "querystring/release must match pattern \"^[A-Za-z0-9._+~*%-]+$\""],
  "kernels release wildcard": [200, null, null],
  "kernels extra": [400, "LBC_ERR_BAD_REQUEST", "querystring must NOT have additional properties"],
  "kernels distro bad": [400, "LBC_ERR_BAD_REQUEST", "querystring/distro must match pattern \"^[A-Za-z0-9._-]*$\""],
  "btf sha bad": [400, "LBC_ERR_BAD_REQUEST", "params/sha256 must match pattern \"^[0-9a-f]{64}$\""],
  "artifact sha bad": [400, "LBC_ERR_BAD_REQUEST", "params/sha256 must match pattern \"^[0-9a-f]{64}$\""],
  "artifact unknown": [404, "LBC_ERR_ARTIFACT_NOT_FOUND", "No such artifact: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
  "kernel put no arch": [400, "LBC_ERR_BAD_REQUEST", "querystring/arch must have required property 'arch'"],
  "struct id short": [400, "LBC_ERR_BAD_REQUEST", "params/id must NOT have fewer than 4 characters"],
  "struct name bad": [400, "LBC_ERR_BAD_REQUEST", "params/name must match pattern \"^((struct|union|enum) +)?[A-Za-z_][A-Za-z0-9_]*$\""],
  "struct depth bad": [400, "LBC_ERR_BAD_REQUEST", "querystring/depth must match pattern \"^[0-9]{1,2}$\""],
  "funcs limit bad": [400, "LBC_ERR_BAD_REQUEST", "querystring/limit must match pattern \"^[0-9]{1,4}$\""],
  "funcs extra": [400, "LBC_ERR_BAD_REQUEST", "querystring must NOT have additional properties"],
  "limits": [200, null, null],
};

/** A schema as JSON, as ajv and /docs see it (TypeBox's symbol keys dropped). */
const json = (schema: object) => JSON.parse(JSON.stringify(schema)) as unknown;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => h?.close());

describe('the /v1 schemas on the wire', () => {
  it('accept and refuse the same requests as before, with the same codes and messages', async () => {
    expect(CASES.map((c) => c.label).sort()).toEqual(Object.keys(BEFORE).sort());
    const answers: Record<string, [number, string | null, string | null]> = {};
    for (const c of CASES) {
      const res = await h.app.inject({
        method: c.method,
        url: c.url,
        ...(c.body !== undefined ? { payload: c.body as never, headers: { 'content-type': 'application/json' } } : {}),
      });
      const error = res.statusCode >= 400 ? (res.json() as { error: { code: string; message: string } }).error : undefined;
      answers[c.label] = [res.statusCode, error?.code ?? null, error ? error.message.replace(/^The request is malformed: /, '') : null];
    }
    expect(answers).toEqual(BEFORE);
  }, 60_000);

  it('/docs publishes the request schemas as the contract defines them', async () => {
    const spec = (await h.app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }>> };
    expect(spec.paths['/v1/compile']!.post!.requestBody!.content['application/json']!.schema).toEqual(json(CompileRequestSchema));
    expect(spec.paths['/v1/verify']!.post!.requestBody!.content['application/json']!.schema).toEqual(json(VerifyRequestSchema));
    const job = spec.paths['/v1/jobs/{id}']!.get!.responses['200']!.content!['application/json']!.schema;
    expect(Object.keys(job.properties ?? {}).sort()).toEqual(['error', 'id', 'progress', 'result', 'state']);
  });
});
