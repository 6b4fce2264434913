// The OOM score line of OpenRC's start_pre and s6's run script, run by real shells on
// the controller: the score is set on the shell and inherited by what it execs; where it
// cannot be set (not root, no CAP_SYS_RESOURCE) the line says so and goes on.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oomLine } from '../../../src/services/oom-line.ts';
import { resolveDescription } from '../../../src/services/description.ts';

const d = resolveDescription({ name: 'toyd', command: '/bin/true', oomScoreAdjust: -500 });
const shells = ['dash', 'busybox'].filter((s) => spawnSync('sh', ['-c', `command -v ${s}`]).status === 0);

for (const shell of shells) {
  test(`${shell}: the exec'd program has the score, or the line says why not`, (t) => {
    const log = join(mkdtempSync(join(tmpdir(), 'cairn-oom-')), 'output.log');
    const body = `${oomLine(d, log).text}exec cat /proc/self/oom_score_adj`;
    const r = spawnSync(shell, shell === 'busybox' ? ['sh', '-c', body] : ['-c', body], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    const canLower = spawnSync('sh', ['-c', 'echo -500 > /proc/$$/oom_score_adj'], { stdio: 'ignore' }).status === 0;
    if (canLower) {
      t.is(r.stdout.trim().split('\n').at(-1), '-500', 'inherited across exec');
      t.false(existsSync(log));
    } else {
      t.regex(r.stdout, /toyd: cannot set oom_score_adj -500 here; starting without it/);
      t.regex(readFileSync(log, 'utf8'), /toyd: cannot set oom_score_adj -500 here/);
    }
  });
}

test('no oomScoreAdjust: no line', (t) => {
  t.is(oomLine(resolveDescription({ name: 'toyd', command: '/bin/true' })).text, '');
});
