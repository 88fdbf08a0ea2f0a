/**
 * The contract's types are the types of its JSON schemas (Static), so a type and its schema cannot
 * drift; these check what is still spelled twice: shapes one schema shares with another, and the
 * bounds and enums the schemas take from the contract's constants.
 */
import { describe, expect, it } from 'vitest';
import {
  ARCHES,
  DEFAULT_LIMITS,
  ERRORS,
  NAME_PATTERN,
  VERIFY_LIMITS,
  type CompileRequest,
  type ErrorBody,
  type ErrorCode,
  type KernelInfo,
  type KernelVerdict,
  type Limits,
  type VerifyKernelRef,
  type VerifyRequest,
} from '../src/index.ts';
import { ArchSchema, CompileRequestSchema, ErrorDetailSchema, KernelInfoSchema, LimitsSchema, VerifyKernelRefSchema, VerifyRequestSchema, VerifyWorkloadSchema } from '../src/schemas.ts';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(proof: Equals<A, B>) => proof;

type ProgramField = 'name' | 'source' | 'includes' | 'cflags';

describe('contract schemas and the types derived from them', () => {
  it('type-check what two schemas share (npm run typecheck fails on a drift; false here would not compile)', () => {
    expect(same<Pick<VerifyRequest, ProgramField>, Pick<CompileRequest, ProgramField>>(true)).toBe(true);
    expect(same<VerifyKernelRef, Pick<KernelInfo, keyof VerifyKernelRef>>(true)).toBe(true);
    expect(same<ErrorBody['error']['code'], ErrorCode>(true)).toBe(true);
    expect(same<NonNullable<KernelVerdict['error']>, ErrorBody['error']>(true)).toBe(true);
    expect(same<keyof Limits, keyof typeof DEFAULT_LIMITS>(true)).toBe(true);
    expect(same<CompileRequest['target']['arch'], (typeof ARCHES)[number] | undefined>(true)).toBe(true);
  });

  it('take their enums and bounds from the contract constants', () => {
    expect(ErrorDetailSchema.properties.code.enum).toEqual(Object.keys(ERRORS));
    expect(ArchSchema.enum).toEqual([...ARCHES]);
    expect(CompileRequestSchema.properties.name.pattern).toBe(NAME_PATTERN.source);
    expect(Object.keys(LimitsSchema.properties).sort()).toEqual(Object.keys(DEFAULT_LIMITS).sort());
    expect(VerifyRequestSchema.properties.kernels.maxItems).toBe(VERIFY_LIMITS.maxKernels);
    expect(VerifyWorkloadSchema.properties.command.maxItems).toBe(VERIFY_LIMITS.maxWorkloadArgs);
    expect(VerifyWorkloadSchema.properties.command.items.maxLength).toBe(VERIFY_LIMITS.maxWorkloadArgBytes);
    expect(VerifyWorkloadSchema.properties.repeat.maximum).toBe(VERIFY_LIMITS.maxRepeat);
    expect(Object.keys(VerifyKernelRefSchema.properties).every((k) => k in KernelInfoSchema.properties)).toBe(true);
  });

  it('requests refuse unknown fields; the program fields are one definition for compile and verify', () => {
    expect(CompileRequestSchema.additionalProperties).toBe(false);
    expect(VerifyRequestSchema.additionalProperties).toBe(false);
    for (const field of ['name', 'source', 'includes', 'cflags'] as const) {
      expect(VerifyRequestSchema.properties[field]).toBe(CompileRequestSchema.properties[field]);
    }
    expect(CompileRequestSchema.required).toEqual(['name', 'source', 'target']);
    expect(VerifyRequestSchema.required).toEqual(['name', 'source']);
  });
});
