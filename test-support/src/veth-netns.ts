/**
 * A veth pair for network tests: the host end in this namespace, the peer in a private network
 * namespace, on a /24 of their own; pings go from the namespace to the host end.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface VethNetns {
  netns: string;
  hostIf: string;
  hostAddress: string;
  /** Pings the host end from the namespace: how many of `count` echo requests were answered. */
  ping(count: number): number;
  remove(): void;
}

export function createVethNetns(label: string): VethNetns {
  const tag = `${process.pid % 100000}`;
  const netns = `lbct-${label}-${tag}`;
  const hostIf = `lbc${label.slice(0, 2)}h${tag}`;
  const peerIf = `lbc${label.slice(0, 2)}p${tag}`;
  const subnet = `10.${200 + (process.pid % 50)}.${(process.pid + label.length * 7) % 250}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  ip('netns', 'add', netns);
  ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf);
  ip('link', 'set', peerIf, 'netns', netns);
  ip('addr', 'add', `${subnet}.1/24`, 'dev', hostIf);
  ip('link', 'set', hostIf, 'up');
  ip('-n', netns, 'addr', 'add', `${subnet}.2/24`, 'dev', peerIf);
  ip('-n', netns, 'link', 'set', peerIf, 'up');
  return {
    netns,
    hostIf,
    hostAddress: `${subnet}.1`,
    ping(count) {
      const r = spawnSync('ip', ['netns', 'exec', netns, 'ping', '-c', String(count), '-i', '0.2', '-W', '1', '-q', `${subnet}.1`], { encoding: 'utf8' });
      const m = /(\d+) received/.exec(r.stdout);
      if (!m) throw new Error(`ping gave no summary: ${r.stdout}${r.stderr}`);
      return Number(m[1]);
    },
    remove() {
      spawnSync('ip', ['link', 'del', hostIf]);
      spawnSync('ip', ['netns', 'del', netns]);
    },
  };
}
