import type { ScenarioResult } from './config.js';
import { percentile } from './scenario.js';

/** True when the run kept every promise: nothing lost, no stale completion, no crash, recovery within leaseMs + 1 s at p95. */
export function verdict(r: ScenarioResult): { ok: boolean; why: string[] } {
  const why: string[] = [];
  if (r.lost > 0) why.push(`${r.lost} tasks lost`);
  if (r.staleApplied > 0) why.push(`${r.staleApplied} stale completions applied`);
  if (r.crashes > 0) why.push(`${r.crashes} worker crashes`);
  if (r.resumedNotLast > 0) why.push(`${r.resumedNotLast} tasks finished by a thawed holder although a newer attempt existed`);
  if (r.store === 'pg' && r.resumedByHolder > 0)
    why.push(`${r.resumedByHolder} tasks finished by a frozen holder: recovery lost the race on PostgreSQL`);
  // A fault that never fired proves nothing about it: the run was too short for its plan.
  for (const kind of r.planned) if (r.faults[kind] === 0) why.push(`no ${kind} fault was injected (the run ended first)`);
  const bound = r.leaseMs / 1000 + 1;
  const p95 = percentile(r.recovery, 95);
  if (r.recovery.length > 0 && p95 > bound) why.push(`recovery after SIGKILL p95 ${p95.toFixed(1)} s > lease + 1 s`);
  // SQLite and the file store have one writer at a time: a worker frozen while holding the write lock
  // stalls every writer until it thaws (SQLite) or its lock goes stale (file store). PostgreSQL must not stall.
  const frozenBound = r.store === 'pg' ? bound : r.freezeMs / 1000 + 1;
  const f95 = percentile(r.recoveryFrozen, 95);
  if (r.recoveryFrozen.length > 0 && f95 > frozenBound)
    why.push(`recovery after SIGSTOP p95 ${f95.toFixed(1)} s > ${frozenBound.toFixed(1)} s`);
  return { ok: why.length === 0, why };
}

const s = (n: number) => (Number.isNaN(n) ? '–' : `${n.toFixed(1)} s`);
const spread = (v: number[]) =>
  `${s(percentile(v, 50))} / ${s(percentile(v, 95))} / ${s(v.length ? Math.max(...v) : Number.NaN)} (n=${v.length})`;

/** The summary as a Markdown table (readable in a terminal, pasteable into an issue). */
export function table(results: ScenarioResult[]): string {
  const head = [
    'store',
    'tasks',
    'SIGKILL',
    'SIGSTOP',
    'backend kills',
    'pg restart',
    'lost',
    'run twice+',
    'stale applied',
    'crashes',
    'recovery after SIGKILL p50 / p95 / max',
    'after SIGSTOP',
    'finished by a thawed holder',
    'took',
    'verdict',
  ];
  const rows = results.map((r) => {
    const v = verdict(r);
    return [
      r.store,
      String(r.tasks),
      String(r.faults.kill),
      String(r.faults.stop),
      r.store === 'pg' ? String(r.faults.terminate) : 'n/a',
      r.store !== 'pg'
        ? 'n/a'
        : r.restartSkipped
          ? 'skipped'
          : r.faults.restart
            ? `yes, work resumed in ${s(r.restartResume ?? Number.NaN)}`
            : 'no',
      String(r.lost),
      String(r.rerun),
      String(r.staleApplied),
      String(r.crashes),
      spread(r.recovery),
      spread(r.recoveryFrozen),
      String(r.resumedByHolder),
      `${r.seconds.toFixed(0)} s`,
      v.ok ? 'PASS' : `FAIL: ${v.why.join('; ')}`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
