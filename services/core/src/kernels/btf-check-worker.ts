/** Worker-thread entry of the BTF check: parses the bytes handed over and answers the type count. */
import { parseBtf } from '@lbc/btf';
import { answerParent } from '../threads/thread-entry.ts';

answerParent((btf: Uint8Array) => parseBtf(Buffer.from(btf.buffer, btf.byteOffset, btf.byteLength)).count);
