/** How `lbc inspect` tells what a pinned path holds: /proc/self/fdinfo of the fd bpf_obj_get returned. */
import { describe, expect, it } from 'vitest';
import { bpffsMounts, fdinfoKey } from '../src/inspect/index.ts';

describe('pinned paths', () => {
  it('a link is a link although its fdinfo names its program too; maps and programs by their own id', () => {
    expect(fdinfoKey('pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1\nlink_type:\ttracing\nlink_id:\t7\nprog_tag:\t6100de86a2ef5395\nprog_id:\t12\nattach_type:\t24\n')).toBe('link:7');
    expect(fdinfoKey('pos:\t0\nmap_type:\t1\nkey_size:\t20\nvalue_size:\t16\nmax_entries:\t64\nmap_flags:\t0x0\nmap_id:\t3187\nfrozen:\t0\n')).toBe('map:3187');
    expect(fdinfoKey('pos:\t0\nprog_type:\t5\nprog_jited:\t1\nprog_tag:\t51c1f0b0f410b337\nmemlock:\t4096\nprog_id:\t4383\n')).toBe('prog:4383');
  });

  it('an fdinfo without an id (an old kernel) or of something else names nothing', () => {
    expect(fdinfoKey('pos:\t0\nmap_type:\t1\nkey_size:\t4\n')).toBeUndefined();
    expect(fdinfoKey('pos:\t0\nflags:\t02\n')).toBeUndefined();
  });

  it('every bpf mount is searched, spaces in paths unescaped', () => {
    const mounts = 'proc /proc proc rw 0 0\nbpf /sys/fs/bpf bpf rw,nosuid 0 0\nnone /run/my\\040pins bpf rw 0 0\ntracefs /sys/kernel/tracing tracefs rw 0 0\n';
    expect(bpffsMounts(mounts)).toEqual(['/sys/fs/bpf', '/run/my pins']);
  });
});
