/**
 * What this kernel can attach, asked the way libbpf itself probes: the kprobe PMU under
 * /sys/bus/event_source, or the legacy kprobe_events file of tracefs.
 */
import { existsSync } from 'node:fs';

const KPROBE_PMU = '/sys/bus/event_source/devices/kprobe';
const KPROBE_EVENTS = ['/sys/kernel/tracing/kprobe_events', '/sys/kernel/debug/tracing/kprobe_events'];

export function kprobesAvailable(): boolean {
  return existsSync(KPROBE_PMU) || KPROBE_EVENTS.some((path) => existsSync(path));
}

/** Sections whose programs attach through kprobes (libbpf's SEC names). */
export function isKprobeSection(section: string): boolean {
  return /^(kprobe|kretprobe|ksyscall|kretsyscall|kprobe\.multi|kretprobe\.multi)(\/|$)/.test(section);
}
