// kprobe.multi with a pattern, attached through the program object: this kernel has neither kprobes
// nor fprobe, and the error says so in words instead of a bare EOPNOTSUPP.
import { isLbcError } from '@lbc/contract';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../src/native/index.ts';
import { attachKprobeMulti, kprobesAvailable, loadObject } from '../src/attach/index.ts';
import { kprobeMultiLoadRefusal } from '../src/attach/multi-probes.ts';
import type { NativeProgramInfo } from '../src/native/types.ts';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { caughtSync } from '@lbc/test-support/caught';

const env = useNativeFixtures();

describe('kprobe.multi', () => {
  it('loads, and attaching a pattern says what this kernel lacks', () => {
    const object = loadNative().openObject(env.fixtures.object('multi-probes'), 'multiprobes');
    try {
      loadObject(object, 'multiprobes');
      const err = caughtSync(() => attachKprobeMulti(object, 'lbct_vfs_any', 'vfs_read*'));
      expect(isLbcError(err, 'LBC_ERR_ATTACH_UNSUPPORTED')).toBe(true);
      const message = (err as Error).message;
      expect(message).toContain('lbct_vfs_any → kprobe.multi vfs_read*');
      // This machine: CONFIG_KPROBES is off (and CONFIG_FPROBE with it).
      if (!kprobesAvailable()) expect(message).toContain('this kernel has no kprobes');
      else expect(message).toContain('CONFIG_FPROBE');
    } finally {
      object.close();
    }
  });

  it('an empty pattern is LBC_ERR_ATTACH_TARGET', () => {
    const object = loadNative().openObject(env.fixtures.object('multi-probes'), 'multiprobes');
    try {
      loadObject(object, 'multiprobes');
      expect(isLbcError(caughtSync(() => attachKprobeMulti(object, 'lbct_vfs_any', '')), 'LBC_ERR_ATTACH_TARGET')).toBe(true);
    } finally {
      object.close();
    }
  });
});

describe('kprobe.multi refused at load', () => {
  const prog: NativeProgramInfo = { name: 'lab_multi_count', section: 'kprobe.multi', type: 2, typeName: 'kprobe', attachType: 42, autoload: true, fd: -1, id: 0 };

  it('before Linux 5.18 (no kprobe.multi) the error says so instead of the verifier\'s unknown helper', () => {
    const err = kprobeMultiLoadRefusal(prog, 'lab_kprobe_multi', 22, undefined, '5.10.0-46-cloud-amd64');
    expect(err?.code).toBe('LBC_ERR_ATTACH_UNSUPPORTED');
    expect(err?.message).toContain('is kprobe.multi, which needs Linux 5.18 or later; this kernel is 5.10.0-46-cloud-amd64');
  });

  it('on 5.18+ or for other programs the verifier\'s words stand', () => {
    expect(kprobeMultiLoadRefusal(prog, 'o', 22, undefined, '6.1.0-57-cloud-amd64')).toBeUndefined();
    expect(kprobeMultiLoadRefusal({ ...prog, section: 'kprobe/vfs_read' }, 'o', 22, undefined, '5.10.0')).toBeUndefined();
  });
});
