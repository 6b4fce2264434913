import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { sh, type ShellCommand } from '../../../src/shell/sh.ts';
import { shDashC } from '../../../src/connectors/become.ts';
import { LocalConnector } from '../../../src/connectors/local.ts';
import { hostile, MARKER, PAYLOADS } from './_hostile.ts';

/**
 * Property tests: values interpolated with the sh tag reach real shells
 * unchanged and are never executed. dash is /bin/sh on the Debian controller;
 * busybox ash is what Alpine hosts run.
 */
const SHELLS: Record<string, string[]> = { dash: ['dash', '-c'], 'busybox ash': ['busybox', 'sh', '-c'] };
const RUNS = Number(process.env.CAIRN_QUOTING_RUNS ?? 400);

function run(shell: string, cmd: ShellCommand): { stdout: Buffer; status: number | null; stderr: string } {
  const [file, ...args] = SHELLS[shell]!;
  const r = spawnSync(file!, [...args, cmd.text], { env: { PATH: process.env.PATH, HOME: '/nonexistent-home', x: 'VAR-X' } });
  return { stdout: r.stdout, status: r.status, stderr: r.stderr.toString() };
}

test.before(() => rmSync(MARKER, { force: true }));

for (const shell of Object.keys(SHELLS)) {
  test(`${shell}: printf %s <value> prints the value unchanged`, (t) => {
    if (spawnSync(SHELLS[shell]![0]!, ['--help']).error) return t.fail(`${shell} is not installed`);
    fc.assert(
      fc.property(hostile, (v) => {
        const r = run(shell, sh`printf %s ${v}`);
        return r.status === 0 && r.stdout.toString('utf8') === v && !existsSync(MARKER);
      }),
      { numRuns: RUNS },
    );
    t.false(existsSync(MARKER), 'nothing was executed');
  });

  test(`${shell}: every payload alone, and nested in /bin/sh -c twice`, (t) => {
    for (const p of PAYLOADS) {
      t.is(run(shell, sh`printf %s ${p}`).stdout.toString(), p);
      const twice = shDashC(shDashC(sh`printf %s ${p}`));
      t.is(run(shell, twice).stdout.toString(), p, twice.text);
    }
    t.false(existsSync(MARKER));
  });

  test(`${shell}: arrays become separately quoted words`, (t) => {
    fc.assert(
      fc.property(fc.array(hostile.map((w) => w.replace(/\x01/g, '')), { maxLength: 6 }), (words) => {
        const r = run(shell, sh`printf '%s\\001' ${words}`);
        const got = r.stdout.toString('utf8').split('\x01').slice(0, -1);
        // printf with no argument still prints the format once
        const expected = words.length === 0 ? [''] : words;
        return r.status === 0 && JSON.stringify(got) === JSON.stringify(expected);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    t.is(run(shell, sh`set -- ${['a b', '', "c'd", '*']}; echo $#`).stdout.toString(), '4\n', 'empty and spaced values stay one word each');
    t.false(existsSync(MARKER));
  });

  test(`${shell}: nested ShellCommands embed as built`, (t) => {
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        const inner = sh`printf %s ${a}`;
        const outer = sh`${inner}; printf %s ${b} | cat`;
        const r = run(shell, outer);
        return r.status === 0 && r.stdout.toString('utf8') === a + b;
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    t.false(existsSync(MARKER));
  });
}

test('LocalConnector (/bin/sh = dash) passes hostile values unchanged', async (t) => {
  const c = new LocalConnector({ name: 'local', become: false });
  await fc.assert(
    fc.asyncProperty(hostile, async (v) => {
      const r = await c.run(sh`printf %s ${v}`);
      return r.exitCode === 0 && r.stdout === v;
    }),
    { numRuns: Math.ceil(RUNS / 4) },
  );
  t.false(existsSync(MARKER));
});
