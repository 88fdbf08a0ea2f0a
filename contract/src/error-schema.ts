/** The JSON shape every API error answer has (ErrorBody), with the catalogue's codes as its enum. */
import { Type } from '@sinclair/typebox';
import { ERRORS, type ErrorCode } from './errors.ts';
import { AnyObject, StringEnum } from './schema-kit.ts';

export const ErrorDetailSchema = Type.Object({
  code: StringEnum(Object.keys(ERRORS) as ErrorCode[]),
  message: Type.String(),
  hint: Type.String(),
  details: Type.Optional(AnyObject()),
});

export const ErrorBodySchema = Type.Object({ error: ErrorDetailSchema });
