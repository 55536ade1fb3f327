import { parseArgs } from 'node:util';

export type StoreName = 'sqlite' | 'pg' | 'file';
type Section = 'claim' | 'throughput' | 'scaleout' | 'memory';

export interface BenchOptions {
  quick: boolean;
  stores: StoreName[];
  only: Section[];
  /** No-op tasks per throughput measurement. */
  tasks: number;
  /** Concurrency of each worker (peers' loops, scale-out, memory). */
  workers: number;
  /**
   * Baton's concurrency in the throughput section: as packages/core's README advises for
   * many short tasks (hundreds: the claim and the endings batch up to it).
   */
  batonConcurrency: number;
  /**
   * Rounds of the throughput section: every system once per round, in turn, so a slow
   * minute of a shared machine falls on each alike; rows report the median round.
   */
  rounds: number;
  /** Tasks of history for the claim latency section. */
  sizes: number[];
  /** Where results go. */
  out: string;
  pgUrl: string;
}

const ALL: Section[] = ['claim', 'throughput', 'scaleout', 'memory'];

export const USAGE = `pnpm bench [options]

  --quick                    2,000 tasks, history of 1k and 10k (a smoke run)
  --stores sqlite,pg,file    stores to measure (default: all three)
  --only claim,throughput,scaleout,memory
                             sections to run (default: all)
  --tasks N                  tasks per throughput measurement (default 20,000)
  --workers N                concurrency of peers' loops, scale-out and memory (default 50)
  --baton-concurrency N      Baton's concurrency in the throughput section (default 500)
  --rounds N                 rounds of the throughput section, every system once a round (default 3, quick 1)
  --sizes 10000,100000       tasks of history for the claim-latency section
  --out DIR                  where latest.{json,md,svg} go (default bench/results/)
  --help                     this text

PostgreSQL: BATON_PG_URL (default postgres://postgres@127.0.0.1:5432/test).`;

/** The options, or a usage error naming what was wrong (an unknown option, a missing value). */
export function parseOptions(argv: string[]): BenchOptions | { help: true } | { error: string } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    return { error: (e as Error).message };
  }
  const { values } = parsed;
  if (values.help) return { help: true };
  return options(values);
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      stores: { type: 'string' },
      only: { type: 'string' },
      tasks: { type: 'string' },
      workers: { type: 'string' },
      'baton-concurrency': { type: 'string' },
      rounds: { type: 'string' },
      sizes: { type: 'string' },
      out: { type: 'string' },
    },
  });
}

function options(values: ReturnType<typeof parse>['values']): BenchOptions {
  const quick = values.quick ?? false;
  const list = <T extends string>(v: string | undefined, fallback: T[]) => (v ? (v.split(',').map((s) => s.trim()) as T[]) : fallback);
  return {
    quick,
    stores: list<StoreName>(values.stores, ['sqlite', 'pg', 'file']),
    only: list<Section>(values.only, ALL),
    tasks: Number(values.tasks ?? (quick ? 2000 : 20_000)),
    workers: Number(values.workers ?? 50),
    batonConcurrency: Number(values['baton-concurrency'] ?? 500),
    rounds: Number(values.rounds ?? (quick ? 1 : 3)),
    sizes: values.sizes ? values.sizes.split(',').map(Number) : quick ? [1_000, 10_000] : [10_000, 100_000, 1_000_000],
    out: values.out ?? new URL('../results/', import.meta.url).pathname,
    pgUrl: process.env.BATON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  };
}
