import type { ShellCommand } from '../shell/sh.ts';

/**
 * Most bytes of batched commands in one round trip. A command reaches the host as
 * one argument of `sh -c` (twice over with become, where quoting grows it), and
 * Linux refuses any single argument above 128 KiB (MAX_ARG_STRLEN: "Argument list
 * too long"). Half of that leaves room for the batch markers and the become wrapper.
 */
export const BATCH_BUDGET_BYTES = 64 * 1024;

/** What one command adds to a batch: its text plus the markers around it. */
export const batchCost = (cmd: ShellCommand): number => Buffer.byteLength(cmd.text) + 256;

/**
 * Split items, in order, into runs whose sizes add up to at most `budget`. An item
 * larger than the budget goes alone (a file's inline content is capped below the
 * kernel's limit, see INLINE_MAX_BYTES).
 */
export function chunkBySize<T>(items: readonly T[], sizeOf: (item: T) => number, budget = BATCH_BUDGET_BYTES): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let used = 0;
  for (const item of items) {
    const n = sizeOf(item);
    if (cur.length > 0 && used + n > budget) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(item);
    used += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
