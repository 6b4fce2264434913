/**
 * A small unified diff of two texts, line by line (Myers' O((N+M)D) algorithm), with
 * 3 lines of context. No dependency. Huge inputs or outputs are summarised, never
 * computed or shown in full. The caller masks the result (it may contain secrets).
 */

export interface DiffOptions {
  /** Path shown in the headers: `--- <path> (host)` / `+++ <path> (wanted)`. */
  readonly path: string;
  /** Lines of context around each change (default 3). */
  readonly context?: number;
  /** At most this many diff lines are shown; the rest is counted (default 400). */
  readonly maxLines?: number;
  /** Above this many edits the diff is summarised instead of computed (default 1000). */
  readonly maxEdits?: number;
}

type Edit = { readonly op: ' ' | '-' | '+'; readonly line: string };

/** Marks a last line that has no trailing newline, so it compares unequal to one that has. */
const NO_EOL_MARK = '\u0000no-eol';
const NO_EOL = '\\ No newline at end of file';

function splitLines(text: string): string[] {
  if (text === '') return [];
  const eol = text.endsWith('\n');
  const lines = (eol ? text.slice(0, -1) : text).split('\n');
  if (!eol) lines[lines.length - 1] += NO_EOL_MARK;
  return lines;
}

/**
 * Shortest edit script from a to b (Myers 1986, greedy forward with a trace for
 * backtracking). Returns undefined when more than `maxEdits` edits are needed.
 */
function myers(a: readonly string[], b: readonly string[], maxEdits: number): Edit[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const at = (arr: Int32Array, k: number): number => arr[offset + k] ?? 0;
  // trace[d] = the furthest x on each diagonal k before step d
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && at(v, k - 1) < at(v, k + 1)) ? at(v, k + 1) : at(v, k - 1) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return undefined;
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = found; d >= 0; d--) {
    const prev = trace[d] as Int32Array;
    const k = x - y;
    const down = k === -d || (k !== d && at(prev, k - 1) < at(prev, k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prev, prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      edits.push({ op: ' ', line: a[x - 1] as string });
      x--;
      y--;
    }
    if (d > 0) {
      if (down) edits.push({ op: '+', line: b[y - 1] as string });
      else edits.push({ op: '-', line: a[x - 1] as string });
      x = prevX;
      y = prevY;
    }
  }
  return edits.reverse();
}

/**
 * Unified diff of `before` (the host's text, undefined when the file is absent) and
 * `after` (the wanted text). Returns '' when they are equal.
 */
export function unifiedDiff(before: string | undefined, after: string, opts: DiffOptions): string {
  const context = opts.context ?? 3;
  const maxLines = opts.maxLines ?? 400;
  const header = [`--- ${opts.path} (host)`, `+++ ${opts.path} (wanted)`];
  if (before === after) return '';
  const a = splitLines(before ?? '');
  const b = splitLines(after);
  const edits = myers(a, b, opts.maxEdits ?? 1000);
  if (!edits) {
    return [...header, `(diff too large to show: ${a.length} -> ${b.length} lines)`].join('\n');
  }
  // group the changed edit indices into hunks with `context` lines around them
  const changed = edits.flatMap((e, i) => (e.op !== ' ' ? [i] : []));
  const hunks: Array<[number, number]> = [];
  for (const i of changed) {
    const last = hunks[hunks.length - 1];
    if (last && i - context <= last[1]) last[1] = Math.min(edits.length, i + context + 1);
    else hunks.push([Math.max(0, i - context), Math.min(edits.length, i + context + 1)]);
  }
  // line numbers (0-based) of each side before each edit
  const posA: number[] = [];
  const posB: number[] = [];
  let ia = 0;
  let ib = 0;
  for (const e of edits) {
    posA.push(ia);
    posB.push(ib);
    if (e.op !== '+') ia++;
    if (e.op !== '-') ib++;
  }
  const out: string[] = [];
  for (const [s, e] of hunks) {
    const slice = edits.slice(s, e);
    const countA = slice.filter((x) => x.op !== '+').length;
    const countB = slice.filter((x) => x.op !== '-').length;
    const fromA = (posA[s] ?? 0) + (countA > 0 ? 1 : 0);
    const fromB = (posB[s] ?? 0) + (countB > 0 ? 1 : 0);
    out.push(`@@ -${range(fromA, countA)} +${range(fromB, countB)} @@`);
    for (const x of slice) {
      if (x.line.endsWith(NO_EOL_MARK)) out.push(`${x.op}${x.line.slice(0, -NO_EOL_MARK.length)}`, NO_EOL);
      else out.push(`${x.op}${x.line}`);
    }
  }
  if (out.length > maxLines) {
    const more = out.length - maxLines;
    return [...header, ...out.slice(0, maxLines), `... (${more} more diff lines not shown)`].join('\n');
  }
  return [...header, ...out].join('\n');
}

function range(from: number, count: number): string {
  return count === 1 ? String(from) : `${from},${count}`;
}
