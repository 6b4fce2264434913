import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../src/core/errors.ts';
import { Secret } from '../../../src/core/secret.ts';
import { openRunLog } from '../../../src/cli/log.ts';
import { checkOutputFile } from '../../../src/cli/output-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'cairn-log-'));

test('the log gets a header, every step (ok ones too), the text written; secrets masked; appended', (t) => {
  const file = join(dir, 'run.log');
  writeFileSync(file, 'earlier run\n');
  const s = new Secret('pw-9f8e7d');
  const log = openRunLog(file, { argv: ['check', '-i', 'inv.yml', '-e', `pw=${s.reveal()} x`], diff: true, now: new Date('2025-01-02T03:04:05Z') });
  log.emit({ type: 'op:result', host: 'h', result: { role: 'r', id: 'a', kind: 'file', status: 'ok', reason: 'up to date', durationMs: 1 } });
  log.emit({ type: 'op:result', host: 'h', result: { role: 'r', id: 'b', kind: 'file', status: 'changed', reason: 'update', diff: `-old\n+${s.reveal()}`, durationMs: 1 } });
  log.write('RECAP\n...');
  log.close();
  log.close();
  t.is(
    readFileSync(file, 'utf8'),
    [
      'earlier run',
      "# 2025-01-02T03:04:05.000Z cairn check -i inv.yml -e 'pw=******** x'",
      '[h] r/a: ok - up to date',
      '[h] r/b: changed - update',
      '[h]   -old',
      '[h]   +********',
      'RECAP',
      '...',
      '',
    ].join('\n'),
  );
});

test('an output file in a missing directory, or a directory, is a usage error before anything runs', (t) => {
  t.throws(() => checkOutputFile('--junit', join(dir, 'nope', 'r.xml')), { instanceOf: UsageError, message: /^--junit .*nope\/r\.xml: directory .*nope does not exist\n {2}fix: create the directory first/ });
  t.throws(() => checkOutputFile('--log', dir), { instanceOf: UsageError, message: /: is a directory\n {2}fix: name a file, e\.g\. --log .*\/cairn\.log$/ });
  t.is(checkOutputFile('--junit', join(dir, 'r.xml')), join(dir, 'r.xml'));
});
