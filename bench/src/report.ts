import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ClaimRow } from './claim-latency.js';
import type { MemoryRow, ScaleRow } from './scale-memory.js';
import type { ThroughputRow } from './throughput.js';

export interface Results {
  startedAt: string;
  quick: boolean;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string };
  claim: ClaimRow[];
  pgClaimPlan?: string;
  throughput: ThroughputRow[];
  scaleOut: ScaleRow[];
  memory?: MemoryRow;
  /** Ratios the issue sets as goals, computed from this run. */
  ratios: Record<string, number>;
}

export function machine(): Results['machine'] {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
}

export function ratios(r: Pick<Results, 'throughput' | 'claim'>): Record<string, number> {
  const rate = (system: string, db: string) => r.throughput.find((t) => t.system === system && t.db === db)?.processPerSec;
  const out: Record<string, number> = {};
  const put = (name: string, a: number | undefined, b: number | undefined) => {
    if (a && b) out[name] = Math.round((a / b) * 100) / 100;
  };
  put('baton/graphile-worker (pg)', rate('baton', 'pg'), rate('graphile-worker', 'pg'));
  put('baton/pg-boss (pg)', rate('baton', 'pg'), rate('pg-boss', 'pg'));
  put('baton/plainjob (sqlite)', rate('baton', 'sqlite'), rate('plainjob', 'sqlite'));
  put('baton/raw (pg)', rate('baton', 'pg'), rate('raw', 'pg'));
  put('baton/raw (sqlite)', rate('baton', 'sqlite'), rate('raw', 'sqlite'));
  for (const store of ['sqlite', 'pg']) {
    const rows = r.claim.filter((c) => c.store === store && c.batch === 50);
    if (rows.length >= 2) put(`claim p99 largest/smallest history (${store}, batch 50)`, rows.at(-1)!.p99Ms, rows[0]!.p99Ms);
  }
  return out;
}

function markdown(r: Results): string {
  const lines = [
    `# Baton bench results`,
    '',
    `${r.startedAt}${r.quick ? ' (quick mode)' : ''}, ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GiB, Node ${r.machine.node}`,
    '',
    '## Processing throughput (no-op tasks)',
    '',
    '| system | db | tasks | enqueue/s | process/s | add-to-start p50 | configuration |',
    '|---|---|---:|---:|---:|---:|---|',
    ...r.throughput.map(
      (t) =>
        `| ${t.system} | ${t.db} | ${t.tasks.toLocaleString()} | ${t.enqueuePerSec.toLocaleString()}${t.enqueueRunsPerSec ? ` (${t.enqueueRunsPerSec.toLocaleString()} runs/s)` : ''} | ${t.processPerSec.toLocaleString()} | ${t.addToStartP50Ms !== undefined ? `${t.addToStartP50Ms} ms` : 'n/a'} | \`${t.config}\` |`,
    ),
    '',
    '## Ratios',
    '',
    '| ratio | value |',
    '|---|---:|',
    ...Object.entries(r.ratios).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '## Pending-task claim latency',
    '',
    '| store | history | batch | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|',
    ...r.claim.map((c) => `| ${c.store} | ${c.history.toLocaleString()} | ${c.batch} | ${c.p50Ms} | ${c.p99Ms} |`),
    '',
  ];
  if (r.scaleOut.length) {
    lines.push('## Scale-out on PostgreSQL', '', '| worker processes | process/s |', '|---:|---:|', ...r.scaleOut.map((s) => `| ${s.processes} | ${s.processPerSec.toLocaleString()} |`), '');
  }
  if (r.memory) lines.push('## Memory', '', `Peak RSS of one scheduler processing ${r.memory.tasks.toLocaleString()} tasks on SQLite: **${r.memory.peakRssMb} MB**.`, '');
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
      return `<text x="${left - 8}" y="${y + 18}" text-anchor="end" font-size="13">${t.system} (${t.db})</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/><text x="${left + w + 6}" y="${y + 18}" font-size="13">${t.processPerSec.toLocaleString()}/s</text>`;
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
