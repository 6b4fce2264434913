import test from 'ava';
import { stdinBytes } from '../../helpers/stdin.ts';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changeChunks } from '../../../src/engine/change-batch.ts';
import { upload } from '../../../src/operations/operation.ts';
import { sh } from '../../../src/shell/sh.ts';

// Queued changes with uploads, then probes, as the engine sends them: run by dash with
// GNU tar/coreutils, and by busybox ash with busybox's tar, mv, mkdir (Alpine's tools).

const root = mkdtempSync(join(tmpdir(), 'cairn-change-batch-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

const busyboxBin = join(root, 'busybox-bin');
mkdirSync(busyboxBin);
for (const applet of ['tar', 'mv', 'mkdir', 'chmod', 'rm', 'mktemp', 'cat', 'printf', 'echo']) symlinkSync(spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim(), join(busyboxBin, applet));

const shells: [string, string[], NodeJS.ProcessEnv][] = [
  ['dash + GNU tar', ['/bin/sh', '-c'], process.env],
  ['busybox ash + busybox tar', ['busybox', 'sh', '-c'], { ...process.env, PATH: `${busyboxBin}:${process.env.PATH}` }],
];

for (const [name, argv, env] of shells) {
  const run = (chunk: ReturnType<typeof changeChunks>[number]) => {
    const r = spawnSync(argv[0]!, [...argv.slice(1), chunk.command.text], { encoding: 'utf8', env, ...(chunk.stdin ? { input: stdinBytes(chunk.stdin) } : {}) });
    return chunk.parse(r.stdout);
  };
  const dirOf = (tag: string) => {
    const d = join(root, `${name.split(' ')[0]}-${tag}`);
    mkdirSync(d);
    return d;
  };

  test(`${name}: uploads between shell commands land in order, with modes; probes run after the changes`, (t) => {
    const d = dirOf('order');
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 0xab);
    const chunks = changeChunks(
      [
        [sh`mkdir -p ${`${d}/a/b`}`, upload(`${d}/a/b/one.tmp`, Buffer.from('one\n'), 'one', 0o600), sh`mv ${`${d}/a/b/one.tmp`} ${`${d}/a/b/one`}`],
        [sh`echo between > ${`${d}/between`}`],
        // its directory does not exist when the batch starts: tar stages it, mkdir makes it
        [sh`mkdir -p ${`${d}/c`}`, upload(`${d}/c/big`, big, 'big', 0o755), sh`cat ${`${d}/a/b/one`} > ${`${d}/c/after-one`}`],
      ],
      [sh`cat ${`${d}/c/after-one`}`, sh`exit 3`, sh`echo last`],
    );
    t.is(chunks.length, 1);
    t.deepEqual(chunks[0]!.stage, { before: 0, files: 2, bytes: 4 + big.length });
    const r = run(chunks[0]!);
    t.deepEqual(r.changes.map((p) => p?.exitCode), [0, 0, 0]);
    t.is(r.stage?.exitCode, 0);
    t.is(readFileSync(`${d}/a/b/one`, 'utf8'), 'one\n');
    t.true(readFileSync(`${d}/c/big`).equals(big));
    t.is(statSync(`${d}/c/big`).mode & 0o777, 0o755);
    t.is(readFileSync(`${d}/c/after-one`, 'utf8'), 'one\n');
    t.deepEqual(r.probes.map((p) => [p?.exitCode, p?.stdout]), [[0, 'one\n'], [3, ''], [0, 'last\n']], 'a failing probe does not stop the others');
    t.deepEqual(readdirSync(d).filter((n) => n.startsWith('.cairn-stage')), [], 'the stage (made in d, the nearest existing ancestor) is removed');
  });

  test(`${name}: a failing change stops the batch: later changes and the probes do not run, the stage is removed`, (t) => {
    const d = dirOf('stop');
    const [chunk] = changeChunks([[upload(`${d}/x`, Buffer.from('x'), 'x')], [sh`exit 4`], [upload(`${d}/y`, Buffer.from('y'), 'y')]], [sh`echo probe`]);
    const r = run(chunk!);
    t.deepEqual(r.changes.map((p) => p?.exitCode), [0, 4, undefined]);
    t.deepEqual(r.probes, [undefined]);
    t.is(readFileSync(`${d}/x`, 'utf8'), 'x');
    t.false(existsSync(`${d}/y`));
    t.deepEqual(readdirSync(d), ['x'], 'nothing staged is left next to the files');
  });

  test(`${name}: an upload onto a directory is refused, not moved into it`, (t) => {
    const d = dirOf('dir');
    mkdirSync(`${d}/target`);
    const [chunk] = changeChunks([[upload(`${d}/target`, Buffer.from('x'), 'x')]]);
    const r = run(chunk!);
    t.is(r.changes[0]?.exitCode, 1);
    t.regex(r.changes[0]?.stderr ?? '', /target is a directory/);
    t.deepEqual(readdirSync(`${d}/target`), []);
  });
}

test('changes too long for one command are split: each chunk carries only its own files', (t) => {
  const long = 'x'.repeat(40 * 1024);
  const chunks = changeChunks([
    [sh`: ${long}`, upload('/srv/a', Buffer.from('a'), 'a')],
    [sh`: ${long}`, upload('/srv/b', Buffer.from('bb'), 'b')],
    [sh`true`],
  ]);
  t.is(chunks.length, 2);
  t.deepEqual(chunks.map((c) => [c.changes, c.stage?.files, c.stage?.bytes]), [
    [[0], 1, 1],
    [[1, 2], 1, 2],
  ]);
  t.true(chunks.every((c) => !c.command.text.includes('\0')));
});

test('no uploads: no stdin, no stage', (t) => {
  const [chunk] = changeChunks([[sh`true`]], [sh`true`]);
  t.is(chunk!.stdin, undefined);
  t.is(chunk!.stage, undefined);
  t.false(chunk!.command.text.includes('tar'));
});
