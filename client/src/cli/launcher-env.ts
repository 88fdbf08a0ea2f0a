/**
 * What bin/lbc adds to the environment for node's own start, taken back before a command runs: the
 * commands the CLI starts (`lbc graph -- CMD`, pahole for `lbc trace`) get the user's environment.
 * bin/lbc appends `glibc.malloc.hugetlb=1` to GLIBC_TUNABLES (huge pages for the snapshot node
 * reads at start) and says so in LBC_LAUNCHER_TUNABLES=1.
 */
const ADDED = 'glibc.malloc.hugetlb=1';

export function restoreLauncherEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (env.LBC_LAUNCHER_TUNABLES !== '1') return;
  delete env.LBC_LAUNCHER_TUNABLES;
  const tunables = env.GLIBC_TUNABLES ?? '';
  const own = tunables === ADDED ? '' : tunables.endsWith(`:${ADDED}`) ? tunables.slice(0, -ADDED.length - 1) : tunables;
  if (own) env.GLIBC_TUNABLES = own;
  else delete env.GLIBC_TUNABLES;
}
