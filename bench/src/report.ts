import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ClaimRow } from './claim-latency.js';
import type { MemoryRow, ScaleRow } from './scale-memory.js';
import type { ThroughputRow } from './throughput.js';

export interface Results {
  startedAt: string;
  quick: boolean;
  /** Said with the numbers: a shared machine's absolute figures move between runs. */
  note?: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string };
  claim: ClaimRow[];
  pgClaimPlan?: string;
  throughput: ThroughputRow[];
  scaleOut: ScaleRow[];
  memory?: MemoryRow;
  /** Ratios the issue sets as goals, computed from this run (see `Ratios`). */
  ratios: Ratios;
}

/**
 * Baton ÷ peer processing rates per database and shape, under keys a script
 * reads: `ratios.pg.fanout.graphileWorker`, `ratios.pg.singles.graphileWorker`,
 * `ratios.sqlite.fanout.plainjob`, `ratios.sqlite.singles.plainjob`, …
 */
export interface Ratios {
  pg?: { fanout?: Record<string, number>; singles?: Record<string, number>; enqueue?: Record<string, number> };
  sqlite?: { fanout?: Record<string, number>; singles?: Record<string, number>; enqueue?: Record<string, number> };
  /** Claim p99 (batch 50) at the largest history ÷ at the smallest. */
  claimP99LargestVsSmallest?: Record<string, number>;
  /** Scale-out: processing with 2 (4) processes ÷ with 1. */
  scaleOut?: Record<string, number>;
}

export function machine(): Results['machine'] {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

const PEER_KEYS: Record<string, string> = { 'graphile-worker': 'graphileWorker', 'pg-boss': 'pgBoss', plainjob: 'plainjob', raw: 'raw' };
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? Math.round((a / b) * 100) / 100 : undefined);

/**
 * Baton ÷ peer for one rate: with rounds, the median of the rounds' own ratios
 * (each pairs two measurements taken a few seconds apart, so a slow minute of
 * the machine moves both); otherwise the rows' ratio.
 */
function pairedRatio(baton: ThroughputRow | undefined, peer: ThroughputRow, rate: 'processPerSec' | 'enqueuePerSec') {
  if (!baton) return undefined;
  const pairs = (baton.rounds ?? [])
    .map((b, i) => (b && peer.rounds?.[i] ? b[rate] / peer.rounds[i]![rate] : undefined))
    .filter((v): v is number => v !== undefined && Number.isFinite(v))
    .sort((x, y) => x - y);
  if (pairs.length === 0) return ratio(baton[rate], peer[rate]);
  const m = pairs.length >> 1;
  const median = pairs.length % 2 ? pairs[m]! : (pairs[m - 1]! + pairs[m]!) / 2;
  return Math.round(median * 100) / 100;
}

export function ratios(r: Pick<Results, 'throughput' | 'claim' | 'scaleOut'>): Ratios {
  const out: Ratios = {};
  for (const db of ['pg', 'sqlite'] as const) {
    const peers = r.throughput.filter((t) => t.db === db && t.system !== 'baton');
    for (const shape of ['fanout', 'singles'] as const) {
      const baton = r.throughput.find((t) => t.db === db && t.system === 'baton' && t.shape === shape);
      for (const peer of peers) {
        const value = pairedRatio(baton, peer, 'processPerSec');
        if (value === undefined) continue;
        ((out[db] ??= {})[shape] ??= {})[PEER_KEYS[peer.system] ?? peer.system] = value;
      }
    }
    const singles = r.throughput.find((t) => t.db === db && t.system === 'baton' && t.shape === 'singles');
    for (const peer of peers.filter((p) => p.system !== 'raw')) {
      const value = pairedRatio(singles, peer, 'enqueuePerSec');
      if (value !== undefined)
        ((out[db] ??= {}).enqueue ??= {})[`triggerManyVs${(PEER_KEYS[peer.system] ?? peer.system).replace(/^./, (c) => c.toUpperCase())}`] =
          value;
    }
  }
  for (const store of ['sqlite', 'pg']) {
    const rows = r.claim.filter((c) => c.store === store && c.batch === 50);
    const value = rows.length >= 2 ? ratio(rows.at(-1)!.p99Ms, rows[0]!.p99Ms) : undefined;
    if (value !== undefined) (out.claimP99LargestVsSmallest ??= {})[store] = value;
  }
  const one = r.scaleOut.find((s) => s.processes === 1)?.processPerSec;
  for (const n of [2, 4]) {
    const value = ratio(r.scaleOut.find((s) => s.processes === n)?.processPerSec, one);
    if (value !== undefined) (out.scaleOut ??= {})[`${n}vs1`] = value;
  }
  return out;
}

/** `pg.fanout.graphileWorker = 1.2` lines, for the summary and the tables. */
export function flatRatios(r: Ratios): [string, number][] {
  const lines: [string, number][] = [];
  const walk = (prefix: string, value: unknown) => {
    if (typeof value === 'number') lines.push([prefix, value]);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
  };
  walk('', r);
  return lines;
}

function markdown(r: Results): string {
  const lines = [
    `# Baton bench results`,
    '',
    `${r.startedAt}${r.quick ? ' (quick mode)' : ''}, ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GiB, Node ${r.machine.node}`,
    ...(r.note ? ['', r.note] : []),
    '',
    '## Processing throughput (no-op tasks)',
    '',
    "Each row is the system's median round (by process/s); the last column has every round's process/s. Ratios are the median of the rounds' own ratios.",
    '',
    '| system | db | shape | tasks | enqueue/s (batch API) | enqueue/s (separate calls) | process/s | WAL bytes/job (processing) | CPU µs/job: bench process + rest of machine (processing) | add-to-start p50 | configuration | process/s, each round |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...r.throughput.map(
      (t) =>
        `| ${t.system} | ${t.db} | ${t.shape} | ${t.tasks.toLocaleString()} | ${t.enqueuePerSec.toLocaleString()} | ${t.triggerCallsPerSec?.toLocaleString() ?? ''} | ${t.processPerSec.toLocaleString()} | ${t.walBytesPerJob?.toLocaleString() ?? ''} | ${cpuCell(t)} | ${t.addToStartP50Ms !== undefined ? `${t.addToStartP50Ms} ms` : ''} | \`${t.config}\` | ${(t.rounds ?? []).map((r) => r?.processPerSec.toLocaleString() ?? 'failed').join(', ')} |`,
    ),
    '',
    '## Ratios',
    '',
    '| ratio | value |',
    '|---|---:|',
    ...flatRatios(r.ratios).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '## Pending-task claim latency',
    '',
    '| store | history | batch | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|',
    ...r.claim.map((c) => `| ${c.store} | ${c.history.toLocaleString()} | ${c.batch} | ${c.p50Ms} | ${c.p99Ms} |`),
    '',
  ];
  if (r.scaleOut.length) {
    lines.push(
      '## Scale-out on PostgreSQL',
      '',
      '| worker processes | process/s (median) | each round |',
      '|---:|---:|---|',
      ...r.scaleOut.map(
        (s) => `| ${s.processes} | ${s.processPerSec.toLocaleString()} | ${(s.samples ?? []).map((v) => v.toLocaleString()).join(', ')} |`,
      ),
      '',
    );
  }
  if (r.memory)
    lines.push(
      '## Memory',
      '',
      `Peak RSS of one scheduler processing ${r.memory.tasks.toLocaleString()} tasks on SQLite: **${r.memory.peakRssMb} MB**.`,
      '',
    );
  if (r.pgClaimPlan) lines.push('## PostgreSQL claim plan (EXPLAIN ANALYZE, largest history)', '', '```', r.pgClaimPlan, '```', '');
  return lines.join('\n');
}

/** Horizontal bars of processing throughput, one per system and database. */
function svg(r: Results): string {
  const rows = r.throughput;
  const max = Math.max(1, ...rows.map((t) => t.processPerSec));
  const barH = 26;
  const width = 760;
  const left = 220;
  const height = 50 + rows.length * (barH + 8);
  const bars = rows
    .map((t, i) => {
      const y = 40 + i * (barH + 8);
      const w = Math.max(2, ((width - left - 90) * t.processPerSec) / max);
      const color = t.system === 'baton' ? '#2b6cb0' : t.system === 'raw' ? '#a0aec0' : '#ed8936';
      return `<text x="${left - 8}" y="${y + 18}" text-anchor="end" font-size="13">${t.system} ${t.shape} (${t.db})</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/><text x="${left + w + 6}" y="${y + 18}" font-size="13">${t.processPerSec.toLocaleString()}/s</text>`;
    })
    .join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
  <rect width="100%" height="100%" fill="white"/>
  <text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">No-op tasks processed per second (higher is better)</text>
  ${bars}
</svg>
`;
}

export function writeResults(dir: string, results: Results): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'latest.json'), join(dir, 'latest.md'), join(dir, 'latest.svg')];
  writeFileSync(files[0]!, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files[1]!, markdown(results));
  writeFileSync(files[2]!, svg(results));
  return files;
}

/** `process + other = total` µs a job, or the process alone off Linux. */
export function cpuCell(t: ThroughputRow): string {
  const c = t.cpuUsPerJob;
  if (!c) return '';
  return c.other === undefined ? `${c.process}` : `${c.process} + ${c.other} = ${Math.round((c.process + c.other) * 10) / 10}`;
}
