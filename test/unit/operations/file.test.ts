import test from 'ava';
import { stdinBytes } from '../../helpers/stdin.ts';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Secret } from '../../../src/core/secret.ts';
import { ShellCommand } from '../../../src/shell/sh.ts';
import { file } from '../../../src/operations/file.ts';
import type { ChangePlan, OpContext, Plan } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { HOSTILE_CONTENT, HOSTILE_NAMES, apply, applyTwice, fakePathProbe, probeResult, sha256, targets, scratch } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[0] as Facts, bake: false };
const displays = (p: Plan) => (p.kind === 'change' ? p.commands.map((c) => (c instanceof ShellCommand ? c.display : `upload ${c.path}: ${c.description}`)) : []);
const asChange = (t: { is: (a: unknown, b: unknown, m?: string) => void }, p: Plan): ChangePlan => {
  t.is(p.kind, 'change', JSON.stringify(p));
  return p as ChangePlan;
};

// ------------------------------------------------------------------ data: params + probe -> plan

test('absent -> create, atomic write, diff of the new lines', (t) => {
  const op = file({ id: 'motd', path: '/etc/motd', content: 'hello\nworld\n' });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'absent' }), ctx));
  t.is(p.reason, 'create /etc/motd');
  const [cmd] = displays(p);
  t.regex(cmd ?? '', /base64 -d > \/etc\/motd\.cairn-tmp/);
  t.regex(cmd ?? '', /chmod 0644 \/etc\/motd\.cairn-tmp/);
  t.regex(cmd ?? '', /mv -f \/etc\/motd\.cairn-tmp \/etc\/motd/);
  t.is(p.diff, '--- /etc/motd (host)\n+++ /etc/motd (wanted)\n@@ -0,0 +1,2 @@\n+hello\n+world');
});

test('same content and attributes -> noop', (t) => {
  const op = file({ id: 'motd', path: '/etc/motd', content: 'hi\n', mode: '0644', owner: 'root', group: 0 });
  const plan = op.plan(fakePathProbe({ type: 'file', stat: '644 0 0 root root 3', sha256: sha256('hi\n'), content: 'hi\n' }), ctx);
  t.deepEqual(plan, { kind: 'noop', reason: '/etc/motd already has the wanted content and attributes' });
});

test('same content, mode drift -> chmod only', (t) => {
  const op = file({ id: 'motd', path: '/etc/motd', content: 'hi\n', mode: '0640' });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'file', stat: '644 0 0 root root 3', sha256: sha256('hi\n') }), ctx));
  t.is(p.reason, '/etc/motd: mode 0644 -> 0640');
  t.deepEqual(displays(p), ['chmod 0640 /etc/motd']);
  t.is(p.diff, undefined);
});

test('same content, owner and group drift -> chown only', (t) => {
  const op = file({ id: 'cfg', path: '/etc/consul.d/consul.hcl', content: 'x', owner: 'consul', group: 'consul' });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'file', stat: '640 0 0 root root 1', sha256: sha256('x') }), ctx));
  t.is(p.reason, '/etc/consul.d/consul.hcl: owner root -> consul, group root -> consul');
  t.deepEqual(displays(p), ['chown consul:consul /etc/consul.d/consul.hcl']);
});

test('numeric owner compares with the uid', (t) => {
  const op = file({ id: 'f', path: '/f', content: 'x', owner: 100, group: '101' });
  t.is(op.plan(fakePathProbe({ type: 'file', stat: '644 100 101 UNKNOWN UNKNOWN 1', sha256: sha256('x') }), ctx).kind, 'noop');
});

test('setuid mode is set again after chown (chown clears it)', (t) => {
  const op = file({ id: 'f', path: '/usr/local/bin/x', content: 'x', owner: 'root', mode: '4755' });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'file', stat: '4755 1 1 daemon daemon 1', sha256: sha256('x') }), ctx));
  t.deepEqual(displays(p), ['chown root /usr/local/bin/x', 'chmod 4755 /usr/local/bin/x']);
});

test('different content -> update with a unified diff; mode and owner of the old file kept', (t) => {
  const op = file({ id: 'motd', path: '/etc/motd', content: 'a\nB\nc\n' });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'file', stat: '600 5 6 u g 6', sha256: sha256('a\nb\nc\n'), content: 'a\nb\nc\n' }), ctx));
  t.is(p.reason, 'update /etc/motd');
  t.is(p.diff, '--- /etc/motd (host)\n+++ /etc/motd (wanted)\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c');
  const [cmd] = displays(p);
  t.regex(cmd ?? '', /chmod 0600 \/etc\/motd\.cairn-tmp/);
  t.regex(cmd ?? '', /chown 5:6 \/etc\/motd\.cairn-tmp/);
  t.regex(cmd ?? '', /cp -p \/etc\/motd \/etc\/motd\.cairn-bak\./);
});

test('backup: false leaves no backup step', (t) => {
  const op = file({ id: 'motd', path: '/etc/motd', content: 'x', backup: false });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'file', stat: '644 0 0 root root 1', sha256: sha256('y'), content: 'y' }), ctx));
  t.notRegex(displays(p)[0] ?? '', /cairn-bak/);
});

test('a directory or a device at the path -> fail', (t) => {
  const op = file({ id: 'x', path: '/etc/x', content: 'x' });
  t.deepEqual(op.plan(fakePathProbe({ type: 'dir', stat: '755 0 0 root root 4096' }), ctx), { kind: 'fail', message: "file 'x': /etc/x is a directory, not a file" });
  t.is(op.plan(fakePathProbe({ type: 'other', stat: '666 0 0 root root 0' }), ctx).kind, 'fail');
});

test('a symlink at the path is replaced by the file', (t) => {
  const op = file({ id: 'resolv', path: '/etc/resolv.conf', content: 'nameserver 127.0.0.1\n' });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'link', resolved: 'file', target: '../run/resolv.conf', stat: '644 0 0 root root 10' }), ctx));
  t.is(p.reason, 'replace symlink /etc/resolv.conf');
  t.regex(p.diff ?? '', /\+nameserver 127\.0\.0\.1/);
});

test('failed probe -> fail with its stderr', (t) => {
  const op = file({ id: 'x', path: '/root/x', content: 'x' });
  t.deepEqual(op.plan(probeResult('', 1, 'sha256sum: can\'t open \'/root/x\': Permission denied\n'), ctx), {
    kind: 'fail',
    message: "file 'x': probe failed with exit code 1: sha256sum: can't open '/root/x': Permission denied",
  });
  t.is(op.plan(undefined, ctx).kind, 'fail');
  t.is(op.plan(probeResult('garbage'), ctx).kind, 'fail');
});

test('Secret content: diff and command never show it', (t) => {
  const value = 'gossip-key-Zm9vYmFyYmF6cXV4';
  const op = file({ id: 'key', path: '/etc/consul.d/key.hcl', content: new Secret(`encrypt = "${value}"\n`), mode: '0600' });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'file', stat: '600 0 0 root root 10', sha256: sha256('old'), content: 'encrypt = "old"\n' }), ctx));
  t.is(p.diff, '--- /etc/consul.d/key.hcl (host)\n+++ /etc/consul.d/key.hcl (wanted)\n(secret content not shown: 10 bytes -> 40 bytes)');
  const shown = displays(p).join('\n');
  t.false(shown.includes(value));
  t.false(shown.includes(Buffer.from(`encrypt = "${value}"\n`).toString('base64')));
  t.regex(shown, /printf %s '?\*{8}'? \| base64 -d/);
  // the real command still carries it
  t.true((p.commands[0] as ShellCommand).text.includes(Buffer.from(`encrypt = "${value}"\n`).toString('base64')));
});

test('text holding a registered secret is treated as secret', (t) => {
  const token = new Secret('s3cr3t-token-for-file-test');
  const op = file({ id: 'env', path: '/etc/env', content: `TOKEN=${token.reveal()}\n` });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'absent' }), ctx));
  t.regex(p.diff ?? '', /secret content not shown/);
  t.false(displays(p).join('\n').includes(Buffer.from(`TOKEN=${token.reveal()}\n`).toString('base64')));
});

test('secret: true hides an ordinary diff', (t) => {
  const op = file({ id: 'f', path: '/f', content: 'private\n', secret: true });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'absent' }), ctx));
  t.regex(p.diff ?? '', /secret content not shown: absent -> 8 bytes/);
});

test('content above 64 KiB is uploaded, then installed atomically', (t) => {
  const big = Buffer.alloc(300 * 1024, 'a');
  const op = file({ id: 'big', path: '/opt/big', content: big });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'absent' }), ctx));
  t.is(p.commands.length, 2);
  const up = p.commands[0];
  t.false(up instanceof ShellCommand);
  if (!(up instanceof ShellCommand) && up) {
    t.is(up.path, '/opt/big.cairn-tmp');
    t.true(stdinBytes([up.content]).equals(big));
  }
  t.regex(displays(p)[1] ?? '', /test -f \/opt\/big\.cairn-tmp[\s\S]*mv -f \/opt\/big\.cairn-tmp \/opt\/big/);
  t.regex(p.diff ?? '', /binary or large content not shown: absent -> 307200 bytes/);
});

test('binary content: summary instead of a diff', (t) => {
  const op = file({ id: 'bin', path: '/bin/x', content: Buffer.from([0, 1, 2, 255]) });
  const p = asChange(t, op.plan(fakePathProbe({ type: 'file', stat: '755 0 0 root root 3', sha256: sha256('abc'), content: 'abc' }), ctx));
  t.regex(p.diff ?? '', /binary or large content not shown: 3 bytes -> 4 bytes/);
});

test('src: content read from a controller file', (t) => {
  const dir = scratch('cairn-src-');
  writeFileSync(join(dir, 'motd'), 'from src\n');
  const op = file({ id: 'motd', path: '/etc/motd', src: join(dir, 'motd') });
  t.is(op.plan(fakePathProbe({ type: 'file', stat: '644 0 0 root root 9', sha256: sha256('from src\n') }), ctx).kind, 'noop');
});

const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
  ['relative path', { path: 'etc/motd', content: 'x' }, /file 'f': param `path` must be an absolute path/],
  ['dot-dot path', { path: '/etc/../motd', content: 'x' }, /must not contain \. or \.\./],
  ['both content and src', { path: '/x', content: 'x', src: '/y' }, /`content` and `src` are exclusive/],
  ['neither content, src nor attributes', { path: '/x' }, /`content` or `src` is required \(or mode\/owner\/group/],
  ['absent with content', { path: '/etc/x', state: 'absent', content: 'x' }, /absent takes no content/],
  ['absent too close to /', { path: '/etc', state: 'absent' }, /too close to \/ to remove/],
  ['bad state', { path: '/etc/x', state: 'gone' }, /param `state` must be present or absent/],
  ['bad mode', { path: '/x', content: 'x', mode: '999' }, /param `mode` must be an octal mode/],
  ['number mode (YAML reads 0644 as 644)', { path: '/x', content: 'x', mode: 420 }, /param `mode` must be an octal mode string.*fix: write the mode quoted/],
  ['bad owner', { path: '/x', content: 'x', owner: 'a b' }, /param `owner` must be a user name/],
  ['unreadable src', { path: '/x', src: '/nonexistent/cairn' }, /param `src` cannot be read/],
  ['number content', { path: '/x', content: 42 }, /param `content` must be a string/],
  ['empty id', { id: '', path: '/x', content: 'x' }, /`id` must be a non-empty string/],
];
for (const [name, params, message] of invalid) {
  test(`invalid params: ${name}`, (t) => {
    t.throws(() => file({ id: 'f', ...params } as never), { message });
  });
}

test('path is normalised', (t) => {
  const op = file({ id: 'f', path: '//etc//motd/', content: 'x' });
  t.regex(op.probe(ctx)?.display ?? '', /^p=\/etc\/motd$/m);
});

// ------------------------------------------------------------------ real runs: dash, busybox, Alpine chroots

for (const target of targets()) {
  test(`${target.name}: hostile names and content, applied twice`, (t) => {
    const dir = target.tempDir();
    for (const name of HOSTILE_NAMES) {
      const path = `${dir}/${name}`;
      applyTwice(t, target, file({ id: name, path, content: HOSTILE_CONTENT }));
      t.is(readFileSync(target.outside(path), 'utf8'), HOSTILE_CONTENT, name);
      t.is(statSync(target.outside(path)).mode & 0o7777, 0o644);
    }
    t.deepEqual(readdirSync(target.outside(dir)).sort(), [...HOSTILE_NAMES].sort(), 'no temp or backup files left');
  });

  test(`${target.name}: update keeps mode, makes a backup, shows a diff`, (t) => {
    const path = `${target.tempDir()}/app.conf`;
    writeFileSync(target.outside(path), 'a\nb\nc\n');
    chmodSync(target.outside(path), 0o600);
    const first = applyTwice(t, target, file({ id: 'conf', path, content: 'a\nB\nc\n' }));
    t.is((first as ChangePlan).diff, `--- ${path} (host)\n+++ ${path} (wanted)\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c`);
    t.is(statSync(target.outside(path)).mode & 0o7777, 0o600);
    const backups = readdirSync(target.outside(path.replace(/\/[^/]+$/, ''))).filter((f) => f.startsWith('app.conf.cairn-bak.'));
    t.is(backups.length, 1);
  });

  test(`${target.name}: mode and owner drift fixed without rewriting`, (t) => {
    const path = `${target.tempDir()}/owned`;
    writeFileSync(target.outside(path), 'same\n');
    chmodSync(target.outside(path), 0o600);
    const op = file({ id: 'owned', path, content: 'same\n', mode: '0640', owner: 'nobody', group: 65534 });
    const first = applyTwice(t, target, op) as ChangePlan;
    t.is(first.commands.length, 2);
    const st = statSync(target.outside(path));
    t.is(st.mode & 0o7777, 0o640);
    t.is(st.uid, 65534);
    t.is(st.gid, 65534);
  });

  test(`${target.name}: setuid mode with an owner survives the chown`, (t) => {
    const path = `${target.tempDir()}/suid`;
    applyTwice(t, target, file({ id: 'suid', path, content: '#!/bin/sh\n', mode: '4755', owner: 'nobody' }));
    t.is(statSync(target.outside(path)).mode & 0o7777, 0o4755);
  });

  test(`${target.name}: secret, binary and large (uploaded) content`, (t) => {
    const dir = target.tempDir();
    applyTwice(t, target, file({ id: 's', path: `${dir}/secret`, content: new Secret('pw=$(reboot)\n'), mode: '0600' }));
    t.is(readFileSync(target.outside(`${dir}/secret`), 'utf8'), 'pw=$(reboot)\n');
    const bin = randomBytes(4096);
    applyTwice(t, target, file({ id: 'b', path: `${dir}/bin`, content: bin, mode: '0755' }));
    t.deepEqual(readFileSync(target.outside(`${dir}/bin`)), bin);
    const large = randomBytes(200 * 1024);
    applyTwice(t, target, file({ id: 'l', path: `${dir}/large`, content: large }));
    t.deepEqual(readFileSync(target.outside(`${dir}/large`)), large);
  });

  test(`${target.name}: a big src is sent from the controller file unread (with its stamp), installed, then a no-op`, (t) => {
    const dir = target.tempDir();
    const src = join(mkdtempSync(join(tmpdir(), 'cairn-src-')), 'agent');
    const bytes = randomBytes(300 * 1024);
    writeFileSync(src, bytes);
    const first = applyTwice(t, target, file({ id: 'a', path: `${dir}/agent`, src, mode: '0755' })) as ChangePlan;
    const up = first.commands[0];
    t.false(up instanceof ShellCommand);
    if (up && !(up instanceof ShellCommand)) t.like(up.content, { file: src, size: bytes.length }, 'the file, not its bytes');
    if (up && !(up instanceof ShellCommand)) t.regex((up.content as { stamp?: string }).stamp ?? '', /^\d+:\d+:307200:/);
    t.deepEqual(readFileSync(target.outside(`${dir}/agent`)), bytes);
    t.is(statSync(target.outside(`${dir}/agent`)).mode & 0o777, 0o755);
  });

  test(`${target.name}: a failed write leaves no temp file`, (t) => {
    const path = `${target.tempDir()}/missing-dir/file`;
    const r = apply(target, file({ id: 'x', path, content: 'x' }));
    t.is(r.plan.kind, 'change');
    t.not(r.exitCode, 0);
  });
}

test('state absent: a file is kept as a backup, a link removed, a directory removed with its content, absent is a noop', (t) => {
  const op = file({ id: 'old', path: '/etc/app/old.conf', state: 'absent' });
  const f = op.plan(fakePathProbe({ type: 'file', stat: '644 0 0 root root 3', sha256: sha256('old') }), ctx);
  t.is(f.kind === 'change' ? f.reason : f.kind, 'remove /etc/app/old.conf (kept as a .cairn-bak file)');
  t.regex(f.kind === 'change' ? String(f.commands[0]) : '', /^mv -f \/etc\/app\/old\.conf \/etc\/app\/old\.conf\.cairn-bak\.\$\(date \+%s\)$/);
  const l = op.plan(fakePathProbe({ type: 'link', target: '/x', resolved: 'file', stat: '644 0 0 root root 1' }), ctx);
  t.is(l.kind === 'change' ? String(l.commands[0]) : '', 'rm -f /etc/app/old.conf');
  const d = op.plan(fakePathProbe({ type: 'dir', stat: '755 0 0 root root 4096' }), ctx);
  t.is(d.kind === 'change' ? String(d.commands[0]) : '', 'rm -rf /etc/app/old.conf');
  t.deepEqual(op.plan(fakePathProbe({ type: 'absent' }), ctx), { kind: 'noop', reason: '/etc/app/old.conf is already absent' });
  const noBackup = file({ id: 'old', path: '/etc/app/old.conf', state: 'absent', backup: false }).plan(fakePathProbe({ type: 'file', stat: '644 0 0 root root 3' }), ctx);
  t.is(noBackup.kind === 'change' ? String(noBackup.commands[0]) : '', 'rm -f /etc/app/old.conf');
});

test('attributes only: an existing file gets mode/owner, its content untouched; a missing one fails', (t) => {
  const op = file({ id: 'm', path: '/etc/app.conf', mode: '0600', owner: 'consul' });
  const p = op.plan(fakePathProbe({ type: 'file', stat: '644 0 0 root root 3' }), ctx);
  t.is(p.kind === 'change' ? p.reason : p.kind, '/etc/app.conf: mode 0644 -> 0600, owner root -> consul');
  t.deepEqual(p.kind === 'change' ? p.commands.map(String) : [], ['chown consul /etc/app.conf', 'chmod 0600 /etc/app.conf']);
  t.is(op.plan(fakePathProbe({ type: 'file', stat: '600 100 0 consul root 3' }), ctx).kind, 'noop');
  t.deepEqual(op.plan(fakePathProbe({ type: 'absent' }), ctx), { kind: 'fail', message: "file 'm': /etc/app.conf does not exist; give content or src to create it" });
});
