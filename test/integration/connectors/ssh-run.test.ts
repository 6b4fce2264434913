import test from 'ava';
import { randomBytes, createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../../src/shell/sh.ts';
import { UnreachableError } from '../../../src/core/errors.ts';
import { SshConnector } from '../../../src/connectors/ssh/connector.ts';
import { loadSshConfig } from '../../../src/connectors/ssh-config.ts';
import { hostSpec, isolated, must, rootConnector, settings, sshTestTarget } from './_target.ts';

test('exit codes, stdout and stderr apart, stdin, signals', async (t) => {
  const target = await sshTestTarget();
  const c = rootConnector(target);
  try {
    const ok = await c.run(sh`echo out; echo err >&2`);
    t.like(ok, { exitCode: 0, stdout: 'out\n', stderr: 'err\n', command: 'echo out; echo err >&2' });
    t.true(ok.durationMs >= 0);
    t.is((await c.run(sh`exit 3`)).exitCode, 3);
    t.is((await c.run(sh`exit 255`)).exitCode, 255);
    const nf = await c.run(sh`no-such-command-xyz`);
    t.is(nf.exitCode, 127);
    t.regex(nf.stderr, /not found/);
    t.is((await c.run(sh`kill -TERM $$`)).exitCode, 143, 'killed by a signal -> 128+n');
    t.is((await c.run(sh`kill -KILL $$`)).exitCode, 137);
    // stdin: text and binary bytes, unchanged
    t.is((await c.run(sh`tr a-z A-Z`, { stdin: 'hello\nworld' })).stdout, 'HELLO\nWORLD');
    const bin = randomBytes(200_000);
    const sum = createHash('sha256').update(bin).digest('hex');
    t.is((await c.run(sh`sha256sum | cut -d' ' -f1`, { stdin: bin })).stdout.trim(), sum);
    // no stdin: EOF right away, a reader does not hang
    t.is((await c.run(sh`cat; echo done`, { timeoutMs: 5000 })).stdout, 'done\n');
    // output is not trimmed; large output complete
    t.is((await c.run(sh`printf '  a  \n\n'`)).stdout, '  a  \n\n');
    t.is((await c.run(sh`head -c 3000000 /dev/zero | tr '\\0' x`)).stdout.length, 3_000_000);
    t.is((await c.run(sh`printf %s ${'héllo wörld ✓'}`)).stdout, 'héllo wörld ✓');
    await t.throwsAsync(c.run(sh`echo ${'a\0b'}`), { message: /NUL byte/ });
    t.is((await c.run(sh`echo after`)).stdout, 'after\n', 'the connection survived');
  } finally {
    await c.close();
  }
});

test('commands run through /bin/sh -c whatever the login shell', async (t) => {
  const c = rootConnector(await sshTestTarget());
  try {
    const r = await c.run(sh`readlink -f /proc/$$/exe; echo "$0"`);
    t.is(r.exitCode, 0);
    t.regex(r.stdout, /\/bin\/(busybox|dash|sh|bash)\n\/bin\/sh\n/);
  } finally {
    await c.close();
  }
});

test('one connection reused for 50 commands (8 channels at most at once)', async (t) => {
  const c = rootConnector(await sshTestTarget());
  // every command prints the PID of the sshd process that owns its session
  const sshdOfSession = sh`p=$$; while [ "$p" -gt 1 ]; do case "$(cat /proc/$p/comm)" in sshd*) echo "$p"; exit 0;; esac; p=$(sed 's/.*) //' /proc/$p/stat | cut -d' ' -f2); done; exit 1`;
  try {
    const results = await Promise.all(Array.from({ length: 50 }, () => c.run(sshdOfSession)));
    t.true(results.every((r) => r.exitCode === 0));
    const pids = new Set(results.map((r) => r.stdout.trim()));
    t.is(pids.size, 1, `every command ran under the same sshd connection process: ${[...pids].join(',')}`);
    t.is(c.stats.tcpConnections, 1);
    t.is(c.stats.handshakes, 1);
    t.is(c.stats.commands, 50);
    t.true(c.stats.peakChannels > 1 && c.stats.peakChannels <= 8, `peak channels ${c.stats.peakChannels}`);
  } finally {
    await c.close();
  }
});

test('timeout: exit code 124, a note on stderr, the remote command is killed', async (t) => {
  const c = rootConnector(await sshTestTarget());
  try {
    const started = Date.now();
    const r = await c.run(sh`echo started; sleep 31.4159; touch /tmp/cairn-it-timeout-survived`, { timeoutMs: 700 });
    t.is(r.exitCode, 124);
    t.is(r.stdout, 'started\n');
    t.regex(r.stderr, /timed out after 700 ms/);
    t.notRegex(r.stderr, /cairn-pid/, 'the PID marker line is stripped');
    t.true(Date.now() - started < 5000);
    const ps = await c.run(sh`ps -o args | grep -c '[s]leep 31.4159'`);
    t.is(ps.stdout.trim(), '0', 'nothing of the timed-out command is left running');
    // a child that left the process group (setsid) is found through the process tree
    const escaped = await c.run(sh`setsid sleep 43.21 & sleep 30`, { timeoutMs: 700 });
    t.is(escaped.exitCode, 124);
    // (its kill is sent with the timeout's; under load it can land a moment after run() returned)
    let left = '';
    for (let i = 0; i < 30 && left !== '0'; i++) {
      left = (await c.run(sh`ps -o args | grep -c '[s]leep 43.21'`)).stdout.trim();
      if (left !== '0') await new Promise((r) => setTimeout(r, 100));
    }
    t.is(left, '0', 'the setsid child is gone too (within 3 s)');
    // stderr of a command with a timeout stays exact
    const e = await c.run(sh`echo only-this >&2`, { timeoutMs: 5000 });
    t.is(e.stderr, 'only-this\n');
    // the connection is still usable
    t.is((await c.run(sh`echo still`)).stdout, 'still\n');
    t.is(c.stats.tcpConnections, 1);
  } finally {
    await c.close();
  }
});

test('connect() is idempotent and run() connects on demand; close() then refuses', async (t) => {
  const c = rootConnector(await sshTestTarget());
  await Promise.all([c.connect(), c.connect(), c.run(sh`true`)]);
  t.is(c.stats.tcpConnections, 1);
  await c.close();
  await c.close();
  await t.throwsAsync(c.run(sh`true`), { message: /closed/ });
});

test('auth failure says which user and keys were tried and what to do', async (t) => {
  const target = await sshTestTarget();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-it-'));
  // a valid key the host does not know
  const stranger = join(dir, 'stranger');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
  const missing = join(dir, 'missing-key');
  const c = new SshConnector(hostSpec(target, { identity: [stranger, missing] }), settings(target), isolated());
  const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
  t.regex(err!.message, /authentication failed for user root at /);
  t.true(err!.message.includes(`key ${stranger} (ssh-ed25519 SHA256:`));
  t.true(err!.message.includes(`key ${missing}: missing`));
  t.regex(err!.message, /authorized_keys/);
  await c.close();
});

test('connection refused names address and port', async (t) => {
  const target = await sshTestTarget();
  const c = new SshConnector(hostSpec(target, { port: 1 }), settings(target), isolated());
  const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
  t.true(err!.message.includes(`connection refused by ${target.address}:1`));
  t.is(c.stats.tcpConnections, 0);
});

test('connect timeout names address and port', async (t) => {
  const target = await sshTestTarget();
  // 192.0.2.0/24 is TEST-NET-1: never routed, so SYNs go unanswered (or fail at once without a route)
  const c = new SshConnector(hostSpec(target, { address: '192.0.2.1', port: 22 }), settings(target, { connectTimeoutMs: 300 }), isolated());
  const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
  t.regex(err!.message, /192\.0\.2\.1:22/);
});

test('an ssh_config alias (HostName, Port, User, IdentityFile, UserKnownHostsFile) is honoured', async (t) => {
  const target = await sshTestTarget();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-it-cfg-'));
  const cfg = join(dir, 'config');
  writeFileSync(
    cfg,
    `Host cairn-it-alias\n  HostName ${target.address}\n  Port ${target.port}\n  User root\n  IdentityFile ${target.key}\n  UserKnownHostsFile ${target.knownHosts}\n`,
  );
  const spec = { ...hostSpec(target), address: 'cairn-it-alias' } as ReturnType<typeof hostSpec>;
  delete spec.port;
  delete spec.user;
  delete spec.identity;
  const c = new SshConnector(spec, { connectTimeoutMs: 10_000, commandTimeoutMs: 0 }, isolated({ sshConfig: loadSshConfig(cfg) }));
  try {
    t.is(await must(c, sh`id -un`), 'root\n');
    t.is(c.target.hostname, target.address);
    t.is(c.target.origins.port, `${cfg}:3`);
  } finally {
    await c.close();
  }
});

test('authentication through ssh-agent when no key file works', async (t) => {
  const target = await sshTestTarget();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-it-agent-'));
  const sock = join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
    execFileSync('ssh-add', ['-q', target.key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    const c = new SshConnector(hostSpec(target, { identity: [] }), settings(target), isolated({ agent: sock }));
    try {
      t.is(await must(c, sh`echo via-agent`), 'via-agent\n');
    } finally {
      await c.close();
    }
    // without any key and without an agent: a clear message
    const none = new SshConnector(hostSpec(target, { identity: [] }), settings(target), isolated({ agent: undefined }));
    await t.throwsAsync(none.connect(), { message: /no SSH key to log in as root .*SSH_AUTH_SOCK is not set/ });
  } finally {
    agent.kill();
  }
});
