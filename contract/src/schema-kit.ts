/**
 * TypeBox building blocks that publish the JSON schema OpenAPI readers (and ajv) expect: a string
 * enum as `enum` (TypeBox's own union of literals publishes anyOf/const), a record as
 * `additionalProperties` (TypeBox's Record publishes patternProperties).
 */
import { Type, type SchemaOptions, type Static, type TSchema } from '@sinclair/typebox';

/** One of these strings. */
export const StringEnum = <const T extends readonly string[]>(values: T, options: SchemaOptions = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/** A string matching the pattern (its source, as ajv compiles it). */
export const Matching = (pattern: RegExp, options: SchemaOptions = {}) => Type.String({ pattern: pattern.source, ...options });

/** An object used as a record: any keys (bounded by options), every value of one schema. */
export const Dict = <V extends TSchema>(value: V, options: SchemaOptions = {}) =>
  Type.Unsafe<Record<string, Static<V>>>({ type: 'object', ...options, additionalProperties: value });

/** Any JSON object. */
export const AnyObject = () => Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true });
