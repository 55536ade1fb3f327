import { describe, expect, it } from 'vitest';
import type { FaultKind } from '../src/config.js';
import { preset } from '../src/presets.js';
import { nextFault } from '../src/scenario.js';

const none = (): Record<FaultKind, number> => ({ kill: 0, stop: 0, terminate: 0, restart: 0 });

describe('chaos fault plan', () => {
  it('hits every kind once, in plan order, before repeating any; the restart never twice', () => {
    const plan: FaultKind[] = ['kill', 'stop', 'restart', 'terminate'];
    const done = none();
    const fired: FaultKind[] = [];
    for (let turn = 0; turn < 8; turn++) {
      const f = nextFault(plan, done, turn)!;
      fired.push(f);
      done[f]++;
    }
    expect(fired.slice(0, 4)).toEqual(['kill', 'stop', 'restart', 'terminate']);
    expect(fired.slice(4)).not.toContain('restart');
    expect(new Set(fired.slice(4))).toEqual(new Set(['kill', 'stop', 'terminate']));
  });

  it('an empty plan (a store with no faults of these kinds) injects nothing', () => {
    expect(nextFault([], none(), 0)).toBeUndefined();
  });

  it('every preset lasts, at full speed, through one fault of each kind its store gets, with an interval to spare', () => {
    // kill and stop everywhere; terminate on PostgreSQL, and the restart when allowed.
    const cases = [
      ['sqlite', false, 2],
      ['file', false, 2],
      ['pg', false, 3],
      ['pg', true, 4],
    ] as const;
    for (const short of [true, false])
      for (const [store, restart, kinds] of cases) {
        const p = preset(store, short, restart, () => {});
        const msToLastTenth = (p.tasks * 0.9 * p.workMs) / (p.workers * p.concurrency);
        expect(msToLastTenth, `${store} short=${short} restart=${restart}`).toBeGreaterThanOrEqual(p.faultEveryMs * (kinds + 1));
      }
  });
});
