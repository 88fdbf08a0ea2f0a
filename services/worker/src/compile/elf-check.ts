/** The one check an artifact passes before it leaves the worker: a relocatable ELF64 for the BPF machine. */
const EM_BPF = 247;
const ET_REL = 1;

export function isBpfObject(bytes: Buffer): boolean {
  if (bytes.length < 64) return false;
  if (bytes.readUInt32BE(0) !== 0x7f454c46) return false;
  if (bytes[4] !== 2) return false; // ELFCLASS64
  const little = bytes[5] === 1;
  if (!little && bytes[5] !== 2) return false;
  const type = little ? bytes.readUInt16LE(16) : bytes.readUInt16BE(16);
  const machine = little ? bytes.readUInt16LE(18) : bytes.readUInt16BE(18);
  return type === ET_REL && machine === EM_BPF;
}
