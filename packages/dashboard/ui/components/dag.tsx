import type { Step } from '../api.js';

const W = 132;
const H = 30;
const GX = 40;
const GY = 14;

/** The workflow's steps as a small DAG: columns by depth (longest path from a root), arrows from each dependency. */
export function Dag({ steps, statusOf }: { steps: Step[]; statusOf?: (step: string) => string | undefined }) {
  const depth = new Map<string, number>();
  const byName = new Map(steps.map((s) => [s.name, s]));
  const depthOf = (name: string, seen = new Set<string>()): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0;
    seen.add(name);
    const deps = byName.get(name)?.dependsOn ?? [];
    const d = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((x) => depthOf(x, seen)));
    depth.set(name, d);
    return d;
  };
  const columns: string[][] = [];
  for (const s of steps) (columns[depthOf(s.name)] ??= []).push(s.name);
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((col, c) => col.forEach((name, r) => pos.set(name, { x: 4 + c * (W + GX), y: 4 + r * (H + GY) })));
  const width = 8 + columns.length * (W + GX) - GX;
  const height = 8 + Math.max(...columns.map((c) => c.length)) * (H + GY) - GY;
  return (
    <svg class="dag" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="steps">
      <defs>
        <marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M0,0 L8,4 L0,8 z" class="dag-arrow" />
        </marker>
      </defs>
      {steps.flatMap((s) =>
        (s.dependsOn ?? []).map((d) => {
          const a = pos.get(d);
          const b = pos.get(s.name)!;
          if (!a) return null;
          const x1 = a.x + W;
          const y1 = a.y + H / 2;
          const x2 = b.x;
          const y2 = b.y + H / 2;
          return (
            <path
              key={`${d}-${s.name}`}
              class="dag-edge"
              d={`M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}`}
              marker-end="url(#arrow)"
            />
          );
        }),
      )}
      {steps.map((s) => {
        const p = pos.get(s.name)!;
        const status = statusOf?.(s.name);
        const label = s.name.length > 17 ? `${s.name.slice(0, 16)}…` : s.name;
        return (
          <g key={s.name} class={`dag-node ${status ? `s-${status}` : ''}`} data-step={s.name}>
            <title>{`${s.name}${s.taskCount && s.taskCount > 1 ? ` ×${s.taskCount}` : ''}${status ? ` (${status})` : ''}`}</title>
            <rect x={p.x} y={p.y} width={W} height={H} rx="6" />
            <text x={p.x + W / 2} y={p.y + H / 2 + 4} text-anchor="middle">
              {label}
              {s.taskCount && s.taskCount > 1 ? ` ×${s.taskCount}` : ''}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
