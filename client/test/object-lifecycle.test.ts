// The object lifecycle every part of an Lbc consults: each phase × need gives one stable code,
// with the message naming the part that was used; transitions go one way only.
import { describe, expect, it } from 'vitest';
import { ObjectLifecycle, type Need, type Phase, type Subject } from '../src/lifecycle/object-lifecycle.ts';

function refusal(phase: Phase, need: Need, subject?: Subject): { code?: string; message?: string; details?: unknown } | undefined {
  try {
    new ObjectLifecycle('obj', phase).require(need, subject);
    return undefined;
  } catch (err) {
    return err as { code?: string; message?: string; details?: unknown };
  }
}

describe('ObjectLifecycle', () => {
  it('each phase allows what it should and refuses the rest with one code', () => {
    const code = (phase: Phase, need: Need) => refusal(phase, need)?.code ?? 'ok';
    const table = (['opening', 'opened', 'loaded', 'attached', 'closed'] as const).map((phase) => [phase, code(phase, 'ready'), code(phase, 'setup'), code(phase, 'loaded')]);
    expect(table).toEqual([
      ['opening', 'LBC_ERR_NOT_READY', 'LBC_ERR_NOT_READY', 'LBC_ERR_NOT_READY'],
      ['opened', 'ok', 'ok', 'LBC_ERR_NOT_LOADED'],
      ['loaded', 'ok', 'LBC_ERR_ALREADY_LOADED', 'ok'],
      ['attached', 'ok', 'LBC_ERR_ALREADY_LOADED', 'ok'],
      ['closed', 'LBC_ERR_CLOSED', 'LBC_ERR_CLOSED', 'LBC_ERR_CLOSED'],
    ]);
  });

  it('messages name the part used and say what to do', () => {
    expect(refusal('opening', 'ready')!.message).toMatch(/obj is not ready yet \(still compiling, fetching or loading\): await lbc\.ready first/);
    expect(refusal('opening', 'ready')!.details).toEqual({ object: 'obj' });
    expect(refusal('opened', 'loaded')!.message).toMatch(/obj is opened but not loaded: await lbc\.load\(\) first/);
    expect(refusal('opened', 'loaded', { kind: 'map', name: 'counts', op: 'get' })).toMatchObject({
      message: expect.stringMatching(/map counts\.get: the object is not loaded yet; await lbc\.load\(\) first/),
      details: { map: 'counts', op: 'get' },
    });
    expect(refusal('loaded', 'setup')!.message).toMatch(/obj: set-up applies before load only/);
    expect(refusal('attached', 'setup', { kind: 'object', op: 'load' })!.message).toMatch(/obj is already loaded/);
    expect(refusal('loaded', 'setup', { kind: 'map', name: 'counts', op: 'maxEntries' })).toMatchObject({
      message: expect.stringMatching(/map counts\.maxEntries can only be set before load/),
      details: { map: 'counts', setting: 'maxEntries' },
    });
    expect(refusal('loaded', 'setup', { kind: 'program', name: 'on_exec', op: 'autoload' })).toMatchObject({
      message: expect.stringMatching(/obj: program on_exec\.autoload can only be set before load/),
      details: { prog: 'on_exec', setting: 'autoload' },
    });
    expect(refusal('closed', 'loaded', { kind: 'map', name: 'counts', op: 'get' })!.message).toMatch(/closed: map counts$/);
    expect(refusal('closed', 'ready', { kind: 'global', section: '.bss', variable: 'hits' })!.message).toMatch(/closed: obj: \.bss\.hits$/);
    expect(refusal('closed', 'loaded', { kind: 'program', name: 'on_exec', op: 'attach' })!.message).toMatch(/closed: obj$/);
  });

  it('moves opening → opened → loaded → attached → closed, one way; close is idempotent from any phase', () => {
    const life = new ObjectLifecycle('obj');
    expect(life.phase).toBe('opening');
    expect(() => life.loaded()).toThrow(/opening → loaded/);
    life.opened();
    expect(() => life.attached()).toThrow(/opened → attached/);
    life.loaded();
    expect(life.isLoaded).toBe(true);
    life.attached();
    life.attached();
    expect(life.phase).toBe('attached');
    expect(life.isLoaded).toBe(true);
    expect(life.close()).toBe(true);
    expect(life.close()).toBe(false);
    expect(life.isClosed).toBe(true);
    expect(life.isLoaded).toBe(false);
    expect(() => life.opened()).toThrow(/closed → opened/);
    expect(new ObjectLifecycle('early').close()).toBe(true);
  });
});
