/**
 * The type table of an object's .BTF section. The bytes come from a service or a cache, so they
 * are parsed as a stranger's: @lbc/btf bounds what they cost, and a refusal becomes an LbcError
 * naming the object instead of a BtfParseError from deep inside the start.
 */
import { BtfParseError, parseBtf, type Btf } from '@lbc/btf';
import { LbcError } from '@lbc/contract';

export function parseObjectBtf(raw: Buffer, objectName: string): Btf {
  try {
    return parseBtf(raw);
  } catch (err) {
    if (!(err instanceof BtfParseError)) throw err;
    throw new LbcError('LBC_ERR_OBJECT_BTF_INVALID', `${objectName}: ${err.message}`, { object: objectName }, { cause: err });
  }
}
