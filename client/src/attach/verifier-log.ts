/** Extracts the verifier's words from what libbpf printed during a failed load. */

const BEGIN = '-- BEGIN PROG LOAD LOG --';
const END = '-- END PROG LOAD LOG --';

/** The verifier log(s) libbpf printed, or '' when the failure was not the verifier's. */
export function verifierLog(libbpfOutput: string): string {
  const logs: string[] = [];
  let from = 0;
  for (;;) {
    const start = libbpfOutput.indexOf(BEGIN, from);
    if (start < 0) break;
    const end = libbpfOutput.indexOf(END, start);
    logs.push(libbpfOutput.slice(start + BEGIN.length, end < 0 ? undefined : end).trim());
    if (end < 0) break;
    from = end + END.length;
  }
  return logs.join('\n');
}

/** The last `lines` lines: where the verifier says why it gave up. */
export function logTail(log: string, lines = 20): string {
  return log.trimEnd().split('\n').slice(-lines).join('\n');
}
