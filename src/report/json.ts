import type { HostSummary } from '../engine/events.ts';
import { maskDeep } from '../core/secret.ts';

/** Version of the --json document's shape: raised when a field changes meaning or goes away. */
export const JSON_FORMAT = 1;

/** The --json document: one object on stdout, secrets masked. */
export function jsonReport(mode: string, hosts: Record<string, HostSummary>): string {
  const doc = {
    format: JSON_FORMAT,
    mode,
    hosts: Object.fromEntries(
      Object.entries(hosts).map(([name, s]) => [
        name,
        {
          ok: s.ok,
          changed: s.changed,
          failed: s.failed,
          skipped: s.skipped,
          unreachable: s.unreachable,
          roundTrips: s.roundTrips,
          ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}),
          ...(s.error ? { error: s.error } : {}),
          ops: s.ops,
          ...(s.files ? { files: s.files } : {}),
        },
      ]),
    ),
  };
  return JSON.stringify(maskDeep(doc), null, 2);
}
