export * from './types.ts';
export * from './btf.ts';
export { BtfWriter, btfBlob } from './writer.ts';
export { parseBtf, parseBtfHeader, BtfParseError, BTF_MAGIC, type BtfHeader } from './parse.ts';
export { MAX_NAME_BYTES } from './strings.ts';
