import { describe, expect, it } from 'vitest';
import { guardStore, unguarded } from '../../src/guard.js';
import type { Store } from '../../src/store.js';
import { AbortSwitch } from '../../src/scheduler/abort.js';

describe('AbortSwitch', () => {
  it('a signal asked for after the abort is already aborted, with the first reason', () => {
    const abort = new AbortSwitch();
    const first = new Error('first');
    abort.abort(first);
    abort.abort(new Error('second'));
    expect(abort.aborted).toBe(true);
    expect(abort.reason).toBe(first);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(first);
  });

  it('a signal asked for before the abort fires its listeners when it comes', () => {
    const abort = new AbortSwitch();
    const signal = abort.signal;
    const heard: unknown[] = [];
    signal.addEventListener('abort', () => heard.push(signal.reason));
    expect(signal.aborted).toBe(false);
    const reason = new Error('stop');
    abort.abort(reason);
    expect(heard).toEqual([reason]);
    expect(abort.signal).toBe(signal);
  });

  it('calls its listener once on abort, at once when already aborted, never after removal', () => {
    const abort = new AbortSwitch();
    let calls = 0;
    abort.onAbort(() => calls++);
    abort.abort('x');
    abort.abort('y');
    expect(calls).toBe(1);
    abort.onAbort(() => calls++);
    expect(calls).toBe(2);

    const other = new AbortSwitch();
    let removedCalls = 0;
    const remove = other.onAbort(() => removedCalls++);
    remove();
    other.abort('z');
    expect(removedCalls).toBe(0);
  });
});

describe('unguarded', () => {
  it("gives the store under guardStore's guard, and any other store as it is", () => {
    // Identity only: no operation is called on these objects.
    const inner = { kind: 'sqlite' } as unknown as Store;
    const guarded = guardStore(inner);
    expect(guarded).not.toBe(inner);
    expect(unguarded(guarded)).toBe(inner);
    expect(unguarded(inner)).toBe(inner);
  });
});
