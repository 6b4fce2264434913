import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShellCommand } from '../../../src/shell/sh.ts';
import { archive } from '../../../src/operations/archive.ts';
import type { ChangePlan, OpContext, Plan } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { SECTION_PREFIX } from '../../../src/facts/gather.ts';
import { apply, applyTwice, probeResult, targets, scratch } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[0] as Facts, bake: false };
const out = (sections: Record<string, string>) => probeResult(Object.entries(sections).map(([k, v]) => `\n${SECTION_PREFIX}${k}\n${v}\n`).join(''));
const shown = (p: Plan) => (p.kind === 'change' ? p.commands.map((c) => (c instanceof ShellCommand ? c.display : `upload ${c.path} ${c.description}`)) : []);

/** Build archives on the controller from a tree: { 'path/in/archive': content | { content, mode } }. */
function tree(files: Record<string, string | { content: string; mode: number }>): string {
  const dir = scratch('cairn-tree-');
  for (const [p, v] of Object.entries(files)) {
    const full = join(dir, p);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, typeof v === 'string' ? v : v.content);
    if (typeof v !== 'string') chmodSync(full, v.mode);
  }
  return dir;
}
function tgz(files: Record<string, string | { content: string; mode: number }>, name = 'a.tar.gz'): string {
  const dir = tree(files);
  const out = join(scratch('cairn-arc-'), name);
  execFileSync('tar', ['-czf', out, '-C', dir, ...readdirSync(dir)]);
  return out;
}
function zip(files: Record<string, string | { content: string; mode: number }>, name = 'a.zip'): string {
  const dir = tree(files);
  const out = join(scratch('cairn-arc-'), name);
  execFileSync('zip', ['-qr', out, ...readdirSync(dir)], { cwd: dir });
  return out;
}
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

// ------------------------------------------------------------------ data

test('controller archive, dest absent -> mkdir parent, upload, extract', (t) => {
  const src = tgz({ 'nomad': 'bin' }, 'nomad_1.7.5_linux_amd64.tgz');
  const p = archive({ id: 'nomad', src, dest: '/opt/nomad/1.7.5' }).plan(out({ dest: 'absent' }), ctx) as ChangePlan;
  t.is(p.kind, 'change');
  t.is(p.reason, 'extract nomad_1.7.5_linux_amd64.tgz into /opt/nomad/1.7.5');
  const cmds = shown(p);
  t.is(cmds[0], 'mkdir -p /opt/nomad');
  t.regex(cmds[1] ?? '', /^upload \/opt\/nomad\/\.1\.7\.5\.cairn-archive nomad_1\.7\.5_linux_amd64\.tgz \(\d+ bytes\)$/);
  t.regex(cmds[2] ?? '', new RegExp(sha(src)));
  t.regex(cmds[2] ?? '', /tar -xzof/);
});

test('marker with the same sha256 -> noop; another sha -> change', (t) => {
  const src = zip({ consul: 'x' }, 'consul.zip');
  const op = archive({ id: 'consul', src, dest: '/usr/local/bin' });
  t.deepEqual(op.plan(out({ dest: 'dir', marker: sha(src) }), ctx), { kind: 'noop', reason: `/usr/local/bin already has the content of consul.zip (sha256 ${sha(src).slice(0, 12)})` });
  const p = op.plan(out({ dest: 'dir', marker: 'f'.repeat(64) }), ctx) as ChangePlan;
  t.is(p.reason, 'extract consul.zip into /usr/local/bin (new archive)');
  t.regex(shown(p)[2] ?? '', /unzip -q -o/);
});

test('creates exists -> noop (before anything else)', (t) => {
  const op = archive({ id: 'cni', hostSrc: '/var/cache/cni.tgz', dest: '/opt/cni/bin', creates: '/opt/cni/bin/bridge' });
  t.deepEqual(op.plan(out({ dest: 'dir', creates: 'exists', src: 'missing' }), ctx), { kind: 'noop', reason: '/opt/cni/bin/bridge exists' });
});

test('hostSrc: hashed on the host, barrier set, missing -> fail', (t) => {
  const op = archive({ id: 'cni', hostSrc: '/var/cache/cni plugins.tgz', dest: '/opt/cni/bin' });
  t.true(op.barrier);
  t.regex(op.probe(ctx)?.display ?? '', /sha256sum < '\/var\/cache\/cni plugins\.tgz'/);
  t.deepEqual(op.plan(out({ dest: 'absent', src: 'missing' }), ctx), { kind: 'fail', message: "archive 'cni': /var/cache/cni plugins.tgz does not exist on the host" });
  // in `check`, after an earlier step would change (e.g. the upload of this archive): drift, not failure
  t.like(op.plan(out({ dest: 'absent', src: 'missing' }), { ...ctx, pendingChanges: true }), { kind: 'change' });
  const p = op.plan(out({ dest: 'absent', src: 'a'.repeat(64) }), ctx) as ChangePlan;
  t.is(p.commands.length, 1);
  t.notRegex(shown(p)[0] ?? '', /rm -f '\/var\/cache\/cni plugins\.tgz'/, 'an archive on the host is not removed');
});

test('dest is a file -> fail; failed probe -> fail', (t) => {
  const op = archive({ id: 'a', hostSrc: '/a.zip', dest: '/opt/x' });
  t.deepEqual(op.plan(out({ dest: 'other', src: 'a'.repeat(64) }), ctx), { kind: 'fail', message: "archive 'a': /opt/x exists and is not a directory" });
  t.is(op.plan(probeResult('', 1, 'denied'), ctx).kind, 'fail');
});

test('invalid params', (t) => {
  t.throws(() => archive({ id: 'a', dest: '/x' }), { message: /archive 'a': param `src` and `hostSrc` are exclusive and one is required/ });
  t.throws(() => archive({ id: 'a', hostSrc: '/a.rar', dest: '/x' }), { message: /param `format` cannot be told from "\/a\.rar"/ });
  t.throws(() => archive({ id: 'a', hostSrc: '/a.zip', dest: '/' }), { message: /param `dest` cannot be \// });
  t.throws(() => archive({ id: 'a', hostSrc: '/a.zip', dest: '/x', stripComponents: -1 }), { message: /param `stripComponents`/ });
  t.throws(() => archive({ id: 'a', src: '/nonexistent.zip', dest: '/x' }), { message: /param `src` cannot be read/ });
  t.notThrows(() => archive({ id: 'a', hostSrc: '/a.bin', dest: '/x', format: 'zip' }));
});

// ------------------------------------------------------------------ real runs

const files = {
  'bin/nomad': { content: '#!/bin/sh\necho nomad\n', mode: 0o755 },
  "it's a $(file).txt": 'hostile name\n',
  'conf/app.hcl': 'a = 1\n',
};

for (const target of targets()) {
  for (const [kind, make] of [['tar.gz', tgz], ['zip', zip]] as const) {
    test(`${target.name}: ${kind} into a new dest, twice; modes kept; uploaded archive removed`, (t) => {
      const base = target.tempDir();
      const dest = `${base}/app dir`;
      applyTwice(t, target, archive({ id: 'app', src: make(files), dest }));
      t.is(readFileSync(target.outside(`${dest}/it's a $(file).txt`), 'utf8'), 'hostile name\n');
      t.is(statSync(target.outside(`${dest}/bin/nomad`)).mode & 0o111, 0o111);
      t.deepEqual(readdirSync(target.outside(base)), ['app dir'], 'no temp dir or uploaded archive left');
    });

    test(`${target.name}: ${kind} merged into an existing dest; new archive replaces files`, (t) => {
      const dest = `${target.tempDir()}/bin`;
      mkdirSync(target.outside(`${dest}/conf`), { recursive: true });
      writeFileSync(target.outside(`${dest}/other`), 'keep me');
      writeFileSync(target.outside(`${dest}/conf/local.hcl`), 'keep me too');
      applyTwice(t, target, archive({ id: 'v1', src: make(files), dest }));
      t.is(readFileSync(target.outside(`${dest}/other`), 'utf8'), 'keep me');
      t.is(readFileSync(target.outside(`${dest}/conf/local.hcl`), 'utf8'), 'keep me too');
      t.is(readFileSync(target.outside(`${dest}/conf/app.hcl`), 'utf8'), 'a = 1\n');
      applyTwice(t, target, archive({ id: 'v1', src: make({ ...files, 'conf/app.hcl': 'a = 2\n' }), dest }));
      t.is(readFileSync(target.outside(`${dest}/conf/app.hcl`), 'utf8'), 'a = 2\n');
    });

    test(`${target.name}: ${kind} with stripComponents 1, from an archive already on the host`, (t) => {
      const base = target.tempDir();
      const local = make({ 'pkg-1.0/README': 'r', 'pkg-1.0/lib/x.so': 'x' });
      const onHost = `${base}/pkg 1.0.${kind}`;
      target.upload(onHost, readFileSync(local));
      applyTwice(t, target, archive({ id: 'pkg', hostSrc: onHost, dest: `${base}/pkg`, stripComponents: 1 }));
      t.is(readFileSync(target.outside(`${base}/pkg/lib/x.so`), 'utf8'), 'x');
      t.true(existsSync(target.outside(onHost)), 'the archive on the host is kept');
    });

    test(`${target.name}: ${kind} corrupt archive fails, leaves dest and no temp dir`, (t) => {
      const base = target.tempDir();
      const bad = join(scratch('cairn-bad-'), `bad.${kind}`);
      writeFileSync(bad, 'not an archive at all');
      const r = apply(target, archive({ id: 'bad', src: bad, dest: `${base}/d` }));
      t.is(r.plan.kind, 'change');
      t.not(r.exitCode, 0);
      t.deepEqual(readdirSync(target.outside(base)), []);
    });
  }
}
