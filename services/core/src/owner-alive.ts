/**
 * Whether the owner of a lock or a container — a process on this host — is gone (kill -9), so what
 * it left may be taken over or removed. A pid means something only in the pid namespace it was
 * read in: a worker in a container sharing the host's engine (and, with host networking, its
 * hostname) must not judge the host's processes, nor they its own.
 */
import { readlinkSync } from 'node:fs';
import { processAlive } from 'lbc-client/internal/process';

let ownNamespace: string | undefined;

/** This process's pid namespace, e.g. "pid:[4026531836]" ("unknown" where /proc does not say). */
export function pidNamespace(): string {
  if (ownNamespace === undefined) {
    try {
      ownNamespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      ownNamespace = 'unknown';
    }
  }
  return ownNamespace;
}

/**
 * True only when the owner is known dead: same pid namespace as ours (an owner recorded before
 * namespaces were recorded counts as ours) and no such process. Another namespace cannot be judged.
 */
export function ownerGone(pid: number, namespace: string | undefined): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  if (namespace !== undefined && namespace !== pidNamespace()) return false;
  return !processAlive(pid);
}

/** This process as the owner of a file it names: "<pid>-<pid namespace inode>" (see ownerTagGone). */
export function ownerTag(): string {
  const inode = /\[(\d+)\]/.exec(pidNamespace())?.[1];
  return inode ? `${process.pid}-${inode}` : String(process.pid);
}

/** ownerGone for an ownerTag() read back from a file name ("<pid>" alone: a name from before namespaces). */
export function ownerTagGone(tag: string): boolean {
  const [pid, inode] = tag.split('-');
  return ownerGone(Number(pid), inode === undefined ? undefined : `pid:[${inode}]`);
}
