import test from 'ava';
import fc from 'fast-check';
import { unifiedDiff } from '../../../src/operations/diff.ts';

const H = '--- f (host)\n+++ f (wanted)\n';

test('equal -> empty', (t) => t.is(unifiedDiff('a\n', 'a\n', { path: 'f' }), ''));

test('one changed line with 3 lines of context', (t) => {
  t.is(unifiedDiff('1\n2\n3\n4\n5\n6\n7\n8\n', '1\n2\n3\n4\nV\n6\n7\n8\n', { path: 'f' }), `${H}@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+V\n 6\n 7\n 8`);
});

test('two distant changes -> two hunks', (t) => {
  const a = Array.from({ length: 20 }, (_, i) => `${i + 1}`).join('\n') + '\n';
  const b = a.replace('2\n', 'two\n').replace('19\n', 'nineteen\n');
  t.is(unifiedDiff(a, b, { path: 'f' }), `${H}@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+nineteen\n 20`);
});

test('new file and emptied file', (t) => {
  t.is(unifiedDiff(undefined, 'a\nb\n', { path: 'f' }), `${H}@@ -0,0 +1,2 @@\n+a\n+b`);
  t.is(unifiedDiff('a\n', '', { path: 'f' }), `${H}@@ -1 +0,0 @@\n-a`);
});

test('missing final newline is shown', (t) => {
  t.is(unifiedDiff('a\nb', 'a\nb\n', { path: 'f' }), `${H}@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b`);
});

test('long output is cut with a count', (t) => {
  const a = Array.from({ length: 300 }, (_, i) => `a${i}`).join('\n') + '\n';
  const b = Array.from({ length: 300 }, (_, i) => `b${i}`).join('\n') + '\n';
  const d = unifiedDiff(a, b, { path: 'f', maxLines: 50, maxEdits: 1000 });
  t.is(d.split('\n').length, 2 + 50 + 1);
  t.regex(d, /\.\.\. \(551 more diff lines not shown\)$/);
});

test('too many edits -> summary, no computation blow-up', (t) => {
  const a = Array.from({ length: 5000 }, (_, i) => `a${i}`).join('\n');
  const b = Array.from({ length: 5000 }, (_, i) => `b${i}`).join('\n');
  const started = Date.now();
  t.is(unifiedDiff(a, b, { path: 'f' }), `${H}(diff too large to show: 5000 -> 5000 lines)`);
  t.true(Date.now() - started < 5000);
});

/** Apply a unified diff (our output) to `before`; returns the patched text. */
function patch(before: string, diff: string): string {
  if (diff === '') return before;
  const src = before.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const out: string[] = [];
  let i = 0;
  const lines = diff.split('\n').slice(2);
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k] as string;
    const m = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(l);
    if (m) {
      const start = Number(m[1]) - (m[2] === '0' ? 0 : 1);
      while (i < start) out.push(src[i++] as string);
      continue;
    }
    const noEol = lines[k + 1] === '\\ No newline at end of file';
    if (noEol) k++;
    const token = l.slice(1) + (noEol ? '' : '\n');
    if (l.startsWith(' ') || l.startsWith('-')) {
      if (src[i] !== token) throw new Error(`context mismatch at ${i}: ${JSON.stringify(src[i])} vs ${JSON.stringify(token)}`);
      i++;
    }
    if (l.startsWith(' ') || l.startsWith('+')) out.push(token);
  }
  while (i < src.length) out.push(src[i++] as string);
  return out.join('');
}

const text = fc.array(fc.constantFrom('a', 'b', 'c', 'd', '', 'x y'), { maxLength: 25 }).chain((ls) =>
  fc.boolean().map((eol) => (ls.length === 0 ? '' : ls.join('\n') + (eol ? '\n' : ''))),
);

test('property: the diff patches the host text into the wanted text', (t) => {
  fc.assert(
    fc.property(text, text, (a, b) => {
      const d = unifiedDiff(a, b, { path: 'f', maxLines: 100_000 });
      return patch(a, d) === b;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
