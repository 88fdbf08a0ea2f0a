/** The shape of errors thrown by the native addon, and errno → name. */
import { constants } from 'node:os';

export interface NativeError {
  message: string;
  /** Positive errno. */
  errno?: number;
  /** What libbpf printed during the call (the verifier log for load failures). */
  log?: string;
}

export function asNativeError(err: unknown): NativeError {
  if (err && typeof err === 'object' && 'message' in err) return err as NativeError;
  return { message: String(err) };
}

const NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, value]) => [value, name]));
// Kernel-internal codes that leak out of bpf(2) and that libc does not name.
NAMES.set(524, 'ENOTSUPP');

export function errnoName(errno: number | undefined): string {
  if (errno === undefined) return 'unknown error';
  return NAMES.get(errno) ?? `errno ${errno}`;
}
