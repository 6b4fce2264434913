import { mask } from '../core/secret.ts';
import { unifiedDiff } from '../operations/diff.ts';
import { asText } from '../operations/file-content.ts';
import type { FileChange } from './events.ts';
import type { LedgerEntry } from './path-ledger.ts';

/**
 * One diff per file that two or more steps of the run changed: from the content the
 * first of them planned from to what the last leaves (each step's own diff shows only
 * its part). Secret or non-text content is named, not shown.
 */
export function combinedDiffs(entries: readonly LedgerEntry[]): FileChange[] {
  const byPath = new Map<string, LedgerEntry[]>();
  for (const e of entries) {
    if (e.effect.kind === 'unknown') continue;
    const list = byPath.get(e.effect.path) ?? [];
    list.push(e);
    byPath.set(e.effect.path, list);
  }
  const out: FileChange[] = [];
  for (const [path, list] of byPath) {
    const steps = [...new Set(list.map((e) => e.by))];
    if (steps.length < 2) continue;
    const writes = list.flatMap((e) => (e.effect.kind === 'state' ? [e.effect] : []));
    const first = writes[0];
    const last = writes[writes.length - 1];
    const header = `--- ${path} (host)\n+++ ${path} (after ${steps.join(', ')})\n`;
    if (!first || !last || last.state.type !== 'file' || !last.state.content) {
      out.push({ path, steps, diff: `${header}(no content change to show)` });
      continue;
    }
    if (writes.some((w) => w.secret)) {
      out.push({ path, steps, diff: `${header}(secret content not shown)` });
      continue;
    }
    const from = first.from;
    const before = from?.type === 'file' ? (from.content ? asText(from.content) : undefined) : '';
    const after = asText(last.state.content);
    if (before === undefined || after === undefined) {
      out.push({ path, steps, diff: `${header}(binary or large content not shown)` });
      continue;
    }
    const diff = unifiedDiff(from?.type === 'file' ? before : undefined, after, { path });
    out.push({ path, steps, diff: mask(diff.replace(/^\+\+\+ .*$/m, `+++ ${path} (after ${steps.join(', ')})`)) });
  }
  return out;
}
