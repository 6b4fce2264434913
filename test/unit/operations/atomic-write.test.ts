import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicInstall, atomicWrite } from '../../../src/operations/atomic-write.ts';
import { sh } from '../../../src/shell/sh.ts';

for (const [name, argv] of [['dash', ['/bin/sh', '-c']], ['busybox ash', ['busybox', 'sh', '-c']]] as const) {
  const run = (text: string) => spawnSync(argv[0], [...argv.slice(1), text], { encoding: 'utf8' });

  test(`${name}: writes atomically, keeps a backup of what it replaces`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-aw-'));
    const path = join(dir, "we'ird $(name)");
    writeFileSync(path, 'old\n');
    const r = run(atomicWrite(path, 'new\n', { mode: '0640' }).text);
    t.is(r.status, 0, r.stderr);
    t.is(readFileSync(path, 'utf8'), 'new\n');
    const backups = readdirSync(dir).filter((f) => f.includes('.cairn-bak.'));
    t.is(backups.length, 1);
    t.is(readFileSync(join(dir, backups[0]!), 'utf8'), 'old\n');
    t.false(existsSync(`${path}.cairn-tmp`));
  });

  test(`${name}: owner and a setuid mode together keep the setuid bit`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-aw-'));
    const path = join(dir, 'tool');
    const r = run(atomicWrite(path, '#!/bin/sh\n', { mode: '4755', owner: 'root', group: 'root' }).text);
    t.is(r.status, 0, r.stderr);
    t.is(statSync(path).mode & 0o7777, 0o4755);
  });

  test(`${name}: a failing step leaves the old file in place and fails`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-aw-'));
    const path = join(dir, 'target');
    writeFileSync(path, 'precious\n');
    const tmp = `${path}.cairn-tmp`;
    // the producer writes the temp file, then a later step (chown to a user that does not exist) fails
    const r = run(atomicInstall(sh`printf broken > ${tmp}`, tmp, path, { owner: 'no-such-user-cairn' }).text);
    t.not(r.status, 0);
    t.is(readFileSync(path, 'utf8'), 'precious\n', 'a failed install must not replace the file');
    t.false(existsSync(tmp), 'the temp file is removed');
    const failedProducer = run(atomicInstall(sh`printf half > ${tmp}; false`, tmp, path).text);
    t.not(failedProducer.status, 0);
    t.is(readFileSync(path, 'utf8'), 'precious\n');
  });
}
