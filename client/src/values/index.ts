export { codecFor, type Codec, type CodecOptions } from './codec.ts';
export { compileDecoder, type Decoder } from './decoder.ts';
export { compileEncoder, type Encoder } from './encoder.ts';
export { isStringArray, flatMembers } from './type-shape.ts';
