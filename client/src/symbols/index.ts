export { Kallsyms, kallsyms, type KernelSymbol } from './kallsyms.ts';
export { parseProcMaps, readProcMaps, findMapping, type Mapping } from './proc-maps.ts';
export { ProcessSymbols, type UserSymbol } from './user-symbols.ts';
export { ksyms, parseKsyms, type Ksym, type Ksyms } from './ksyms-api.ts';
