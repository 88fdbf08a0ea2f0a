/**
 * Hosts on one machine for multi-host tests: network namespaces joined to a hub namespace by veth
 * pairs, each pair its own /24. Names carry the test's pid so parallel runs and leftovers of a
 * crashed run never collide; remove() deletes every namespace and link it made, whatever state
 * the test left them in.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

export interface NetnsLink {
  /** Interface names (≤ 15 characters), in the hub and in the other namespace. */
  hubIf: string;
  peerIf: string;
  hubAddress: string;
  peerAddress: string;
  /** Namespace of the non-hub end; undefined for the test's own (root) namespace. */
  peerNs: string | undefined;
}

export class NetnsLab {
  readonly hub: string;
  private readonly namespaces: string[] = [];
  private readonly rootLinks: string[] = [];
  private linkCount = 0;
  /** Second octet of this lab's subnets: 10.<base>.<link>.0/24 */
  private readonly base: number;

  constructor(readonly tag = `lbc-t-${process.pid}`) {
    NetnsLab.removeStale();
    this.base = 200 + (process.pid % 50);
    this.hub = this.addNamespace('hub');
    execFileSync('ip', ['netns', 'exec', this.hub, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  }

  /** Namespaces a crashed earlier run left behind (its pid is gone): their links go with them. */
  static removeStale(): void {
    for (const line of ip('netns', 'list').split('\n')) {
      const m = /^(lbc-t-(\d+)-\S+)/.exec(line);
      if (!m || Number(m[2]) === process.pid) continue;
      try {
        process.kill(Number(m[2]), 0);
      } catch {
        try {
          ip('netns', 'delete', m[1]!);
        } catch {
          // removed meanwhile
        }
      }
    }
  }

  /** A namespace with loopback up. */
  addNamespace(name: string): string {
    const ns = `${this.tag}-${name}`;
    ip('netns', 'add', ns);
    this.namespaces.push(ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    return ns;
  }

  /** Joins a namespace (or the root namespace, with undefined) to the hub. */
  link(peerNs: string | undefined): NetnsLink {
    const n = ++this.linkCount;
    const hubIf = `lt${process.pid % 100000}h${n}`;
    const peerIf = `lt${process.pid % 100000}p${n}`;
    const subnet = `10.${this.base}.${n}`;
    ip('link', 'add', hubIf, 'type', 'veth', 'peer', 'name', peerIf);
    if (!peerNs) this.rootLinks.push(peerIf);
    else this.rootLinks.push(hubIf);
    ip('link', 'set', hubIf, 'netns', this.hub);
    if (peerNs) ip('link', 'set', peerIf, 'netns', peerNs);
    const inPeer = peerNs ? ['-n', peerNs] : [];
    ip('-n', this.hub, 'addr', 'add', `${subnet}.1/24`, 'dev', hubIf);
    ip('-n', this.hub, 'link', 'set', hubIf, 'up');
    ip(...inPeer, 'addr', 'add', `${subnet}.2/24`, 'dev', peerIf);
    ip(...inPeer, 'link', 'set', peerIf, 'up');
    // The hub routes between its links, so every host reaches every other (and the test all of them).
    if (peerNs) ip('-n', peerNs, 'route', 'add', 'default', 'via', `${subnet}.1`);
    else ip('route', 'add', `10.${this.base}.0.0/16`, 'via', `${subnet}.1`);
    return { hubIf, peerIf, hubAddress: `${subnet}.1`, peerAddress: `${subnet}.2`, peerNs };
  }

  /** Cuts (false) or restores (true) a link at its hub end: packets are dropped, no reset is sent. */
  setLink(link: NetnsLink, up: boolean): void {
    ip('-n', this.hub, 'link', 'set', link.hubIf, up ? 'up' : 'down');
  }

  /** Runs a command inside a namespace (`ip netns exec` execs it: the child's pid is the command's). */
  spawn(ns: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', ns, command, ...args], options);
  }

  /** Deletes every namespace (their veth ends go with them) and root-side leftovers. */
  remove(): void {
    for (const ns of this.namespaces.splice(0)) {
      try {
        ip('netns', 'delete', ns);
      } catch {
        // already gone
      }
    }
    for (const ifName of this.rootLinks.splice(0)) {
      try {
        ip('link', 'delete', ifName);
      } catch {
        // went with its namespace
      }
    }
  }
}
