import { describe, expect, it } from 'vitest';
import { ratios } from '../src/report.js';
import { medianRounds, type ThroughputRow } from '../src/throughput.js';

const row = (system: string, shape: ThroughputRow['shape'], processPerSec: number, enqueuePerSec = 1000): ThroughputRow => ({
  system,
  db: 'pg',
  shape,
  tasks: 100,
  enqueuePerSec,
  processPerSec,
  config: `${system} ${processPerSec}`,
});

describe('bench rounds', () => {
  it("reports each system's median round, every round's rates, and ratios paired round by round", () => {
    // The machine is slow in round 2 for both systems, and Baton's median round is not the peer's.
    const rounds = [
      [row('baton', 'fanout', 100, 500), row('graphile-worker', 'jobs', 200, 1000)],
      [row('baton', 'fanout', 50, 200), row('graphile-worker', 'jobs', 60, 1000)],
      [row('baton', 'fanout', 90, 400), row('graphile-worker', 'jobs', 300, 1000)],
    ];
    const rows = medianRounds(rounds);
    expect(rows.map((r) => [r.system, r.processPerSec, r.config])).toEqual([
      ['baton', 90, 'baton 90'],
      ['graphile-worker', 200, 'graphile-worker 200'],
    ]);
    expect(rows[0]!.rounds).toEqual([
      { processPerSec: 100, enqueuePerSec: 500 },
      { processPerSec: 50, enqueuePerSec: 200 },
      { processPerSec: 90, enqueuePerSec: 400 },
    ]);
    // Per round 0.5, 0.83, 0.3: the median is 0.5 (the medians' ratio would read 0.45).
    expect(ratios({ throughput: rows, claim: [], scaleOut: [] }).pg?.fanout?.graphileWorker).toBe(0.5);
  });

  it('a round a system failed is left out of its median and of the pairs', () => {
    const rounds = [
      [row('baton', 'singles', 100, 300), row('plainjob', 'jobs', 50, 1000)],
      [row('baton', 'singles', 120, 600)],
      [row('baton', 'singles', 80, 900), row('plainjob', 'jobs', 100, 1000)],
    ];
    const rows = medianRounds(rounds);
    expect(rows[1]!.rounds).toEqual([{ processPerSec: 50, enqueuePerSec: 1000 }, null, { processPerSec: 100, enqueuePerSec: 1000 }]);
    expect(rows[1]!.processPerSec).toBe(50); // the lower of two measured rounds
    const r = ratios({ throughput: rows, claim: [], scaleOut: [] });
    expect(r.pg?.singles?.plainjob).toBe(1.4); // rounds 1 and 3: 2 and 0.8
    expect(r.pg?.enqueue?.triggerManyVsPlainjob).toBe(0.6); // 0.3 and 0.9
  });
});
