import type { HostSummary } from '../engine/events.ts';

/** 45ms, 12.3s, 2m05s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** How many of the slowest steps the recap names, and from what time on a step counts as slow. */
export const SLOWEST_SHOWN = 3;
export const SLOW_STEP_MS = 1000;

/**
 * The table printed at the end of every run: ok / changed / failed / skipped /
 * unreachable and the run time per host, then the slowest steps (1s or more) on
 * one line (steps applied in one round trip share its time).
 */
export function recapTable(hosts: Record<string, HostSummary>): string {
  const names = Object.keys(hosts);
  const w = Math.max(4, ...names.map((n) => n.length));
  const lines = [`${'HOST'.padEnd(w)}  ${['ok', 'changed', 'failed', 'skipped', 'unreachable', 'time'].map((h) => h.padStart(12)).join('')}`];
  for (const n of names) {
    const s = hosts[n]!;
    const time = s.durationMs === undefined ? '-' : formatDuration(s.durationMs);
    lines.push(`${n.padEnd(w)}  ${[s.ok, s.changed, s.failed, s.skipped, s.unreachable ? 'yes' : 'no', time].map((v) => String(v).padStart(12)).join('')}`);
  }
  const slow = slowestSteps(hosts, SLOWEST_SHOWN).filter((s) => s.ms >= SLOW_STEP_MS);
  if (slow.length > 0) lines.push(`slowest: ${slow.map((s) => `${names.length > 1 ? `[${s.host}] ` : ''}${s.step} ${formatDuration(s.ms)}`).join(', ')}`);
  return `RECAP\n${lines.join('\n')}`;
}

/** The `n` slowest steps that ran (not skipped), slowest first. */
export function slowestSteps(hosts: Record<string, HostSummary>, n: number): { host: string; step: string; ms: number }[] {
  const all = Object.entries(hosts).flatMap(([host, s]) =>
    s.ops.filter((op) => op.status !== 'skipped').map((op) => ({ host, step: `${op.role}/${op.id}`, ms: op.durationMs })),
  );
  return all.sort((a, b) => b.ms - a.ms).slice(0, n);
}
