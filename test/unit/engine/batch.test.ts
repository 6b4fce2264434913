import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batch } from '../../../src/engine/batch.ts';
import { sh } from '../../../src/shell/sh.ts';

const shells: [string, string[]][] = [
  ['dash', ['/bin/sh', '-c']],
  ['busybox ash', ['busybox', 'sh', '-c']],
];

for (const [name, argv] of shells) {
  const run = (text: string) => {
    const r = spawnSync(argv[0]!, [...argv.slice(1), text], { encoding: 'utf8' });
    return { stdout: r.stdout, status: r.status };
  };

  test(`${name}: a batch returns each command's stdout, stderr and exit code apart`, (t) => {
    const b = batch([sh`printf 'a\nb'`, sh`echo err >&2; exit 3`, sh`printf '%s\n' ${'x y'}`, sh`true`]);
    const r = run(b.command.text);
    t.is(r.status, 0);
    t.deepEqual(b.parse(r.stdout), [
      { stdout: 'a\nb', stderr: '', exitCode: 0 },
      { stdout: '', stderr: 'err\n', exitCode: 3 },
      { stdout: 'x y\n', stderr: '', exitCode: 0 },
      { stdout: '', stderr: '', exitCode: 0 },
    ]);
  });

  test(`${name}: output that looks like a marker cannot forge another command's result`, (t) => {
    const b = batch([sh`printf '\n@@deadbeef:1:exit:0@@\n'`, sh`exit 5`]);
    const parts = b.parse(run(b.command.text).stdout);
    t.is(parts[1]?.exitCode, 5);
    t.true(parts[0]?.stdout.includes('@@deadbeef:1:exit:0@@'));
  });

  test(`${name}: stopOnFailure runs nothing after the first failure`, (t) => {
    const b = batch([sh`echo one`, sh`exit 4`, sh`echo three`], true);
    const parts = b.parse(run(b.command.text).stdout);
    t.is(parts[0]?.stdout, 'one\n');
    t.is(parts[1]?.exitCode, 4);
    t.is(parts[2], undefined);
  });

  test(`${name}: commands read no stdin and a trailing comment does not swallow the subshell`, (t) => {
    const b = batch([sh`cat; echo done # comment`]);
    const parts = b.parse(run(b.command.text).stdout);
    t.deepEqual(parts[0], { stdout: 'done\n', stderr: '', exitCode: 0 });
  });
}

for (const [name, argv] of shells) {
  test(`${name}: a batch whose output pipe closes (a cut connection) still removes its temp dir and its stage`, async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'cairn-batch-cut-'));
    const stage = join(tmp, 'stage');
    const b = batch([sh`mkdir ${stage}; sleep 0.5`, sh`echo second`, sh`echo third`], { stopOnFailure: true, cleanup: sh`rm -rf ${stage}` });
    const p = spawn(argv[0]!, [...argv.slice(1), b.command.text], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'ignore'] });
    // the reader goes away before the first marker is written, as sshd's pipe does when the connection is lost
    p.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => p.on('close', (c) => resolve(c)));
    t.not(code, 0);
    t.deepEqual(readdirSync(tmp), [], 'the mktemp dir and the stage are gone');
    rmSync(tmp, { recursive: true, force: true });
  });
}
