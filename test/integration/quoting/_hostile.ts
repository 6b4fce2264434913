import { sh } from '../../../src/shell/sh.ts';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';

/** A marker file name; if any generated string were executed, it would create this file. */
export const MARKER = `/tmp/pwned-${randomBytes(6).toString('hex')}`;

/** Fragments that execute something if they are not quoted correctly. */
export const PAYLOADS = [
  `$(touch ${MARKER})`,
  `\`touch ${MARKER}\``,
  `'; touch ${MARKER}; '`,
  `"; touch ${MARKER}; "`,
  `'"$(touch ${MARKER})"'`,
  `\\'$(touch ${MARKER})`,
  `\n touch ${MARKER}\n`,
  `&& touch ${MARKER}`,
  `|| touch ${MARKER}`,
  `| touch ${MARKER}`,
  `; touch ${MARKER}`,
  `& touch ${MARKER} &`,
  `> ${MARKER}`,
  `>> ${MARKER}`,
  `$(IFS=_;cmd=touch_${MARKER};$cmd)`,
  `\${x:-$(touch ${MARKER})}`,
  `'\\''$(touch ${MARKER})'\\''`,
  `'\\'' ; touch ${MARKER} ; '\\''`,
];

/** Short pieces that mean something to a shell. */
export const SPECIAL = [
  "'", '"', '\\', '`', '$', '$$', '$?', '$#', '$@', '$*', '$0', '$1', '$HOME', '${HOME}', '$((1+1))', '$(', ')', '(', '{', '}',
  '*', '?', '[a-z]', '[!a]', '~', '~root', ';', '|', '&', '<', '>', '>&2', '2>&1', '<<EOF', '#', '!', '=', '%', '^',
  '\n', '\t', '\r', ' ', '  ', '\v', '\f', '-', '--', '-n', '-e', '-E', '--help', '%s', '%d', '%b', '\\n', '\\c', '\\0',
  'é', 'ü', '✓', '日本', '🙂', '\u00a0', '\u202e', '\u0085', '\u2028', '\x7f', '\x01', '\x1b[31m',
];

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 2, arbitrary: fc.constantFrom(...PAYLOADS) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
);

/** Hostile strings: never contain NUL (a C string argument cannot). */
export const hostile: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 8, arbitrary: fc.array(piece, { maxLength: 8 }).map((a) => a.join('')) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  )
  .map((s) => s.replace(/\0/g, ''));

/**
 * The property over one connection: every payload and `runs` generated hostile values
 * pass through `printf` unchanged (and as separate words), exit 0.
 */
export async function hostileRoundTrips(c: { run(cmd: ReturnType<typeof sh>): Promise<{ exitCode: number; stdout: string }> }, runs: number, is: (a: string, b: string) => void): Promise<void> {
  for (const p of PAYLOADS) is((await c.run(sh`printf %s ${p}`)).stdout, p);
  await fc.assert(
    fc.asyncProperty(hostile, async (v) => {
      const r = await c.run(sh`printf %s ${v}`);
      return r.exitCode === 0 && r.stdout === v;
    }),
    { numRuns: runs },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(hostile, { maxLength: 5 }), async (words) => {
      const r = await c.run(sh`for w in ${words}; do printf '[%s]' "$w"; done`);
      return r.exitCode === 0 && r.stdout === words.map((w) => `[${w}]`).join('');
    }),
    { numRuns: Math.ceil(runs / 3) },
  );
}
