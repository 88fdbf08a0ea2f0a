/**
 * Starts the service without its host kernel: the launcher runs in a private mount namespace whose
 * /sys/kernel/btf is an empty tmpfs, so it registers nothing at start and its kernel list is empty,
 * as on a farm that has never seen this machine. Pass as startService's `wrap`.
 */
export const WITHOUT_HOST_BTF = [
  'unshare',
  '--mount',
  '--propagation',
  'private',
  'sh',
  '-c',
  'mount -t tmpfs -o size=4k,mode=0555 lbc-no-host-btf /sys/kernel/btf && exec "$@"',
  'sh',
];
