import type { HostSummary } from '../engine/events.ts';

/** The table printed at the end of every run: ok / changed / failed / skipped / unreachable per host. */
export function recapTable(hosts: Record<string, HostSummary>): string {
  const names = Object.keys(hosts);
  const w = Math.max(4, ...names.map((n) => n.length));
  const lines = [`${'HOST'.padEnd(w)}  ${['ok', 'changed', 'failed', 'skipped', 'unreachable'].map((h) => h.padStart(12)).join('')}`];
  for (const n of names) {
    const s = hosts[n]!;
    lines.push(`${n.padEnd(w)}  ${[s.ok, s.changed, s.failed, s.skipped, s.unreachable ? 'yes' : 'no'].map((v) => String(v).padStart(12)).join('')}`);
  }
  return `RECAP\n${lines.join('\n')}`;
}
