import { isLbcError, type LbcError } from '@lbc/contract';

/** The LbcError `work` throws (sync or async); fails when it throws something else or nothing. */
export const caught = async (work: () => unknown): Promise<LbcError> => {
  try {
    await work();
  } catch (err) {
    if (isLbcError(err)) return err;
    throw err;
  }
  throw new Error('expected an LbcError');
};

/** The LbcError `work` throws synchronously; fails when it throws something else or nothing. */
export const caughtSync = (work: () => unknown): LbcError => {
  try {
    work();
  } catch (err) {
    if (isLbcError(err)) return err;
    throw err;
  }
  throw new Error('expected an LbcError');
};
