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
  /** Tasks of history for the claim latency section. */
  sizes: number[];
  /** Where results go. */
  out: string;
  pgUrl: string;
}

const ALL: Section[] = ['claim', 'throughput', 'scaleout', 'memory'];

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      stores: { type: 'string' },
      only: { type: 'string' },
      tasks: { type: 'string' },
      workers: { type: 'string' },
      'baton-concurrency': { type: 'string' },
      sizes: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const list = <T extends string>(v: string | undefined, fallback: T[]) => (v ? (v.split(',').map((s) => s.trim()) as T[]) : fallback);
  return {
    quick,
    stores: list<StoreName>(values.stores, ['sqlite', 'pg', 'file']),
    only: list<Section>(values.only, ALL),
    tasks: Number(values.tasks ?? (quick ? 2000 : 20_000)),
    workers: Number(values.workers ?? 50),
    batonConcurrency: Number(values['baton-concurrency'] ?? 500),
    sizes: values.sizes ? values.sizes.split(',').map(Number) : quick ? [1_000, 10_000] : [10_000, 100_000, 1_000_000],
    out: values.out ?? new URL('../results/', import.meta.url).pathname,
    pgUrl: process.env.BATON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  };
}
