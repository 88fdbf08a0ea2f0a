/** Raw bytes that are not BTF this package can read: the service maps it to LBC_ERR_BTF_INVALID. */
export class BtfParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BtfParseError';
  }
}
