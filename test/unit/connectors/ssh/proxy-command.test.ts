import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshConnector } from '../../../../src/connectors/ssh/connector.ts';
import { UnreachableError } from '../../../../src/core/errors.ts';
import { sh } from '../../../../src/shell/sh.ts';
import { quote } from '../../../../src/shell/quote.ts';
import { findOpenSsh } from '../../../../src/connectors/ssh-g.ts';
import { startFakeSshServer, fakeHost } from '../../../helpers/fake-ssh-server.ts';

// ProxyCommand against ssh2's Server on 127.0.0.1: a node one-liner stands in for `nc %h %p`.
const PIPE = `${quote(process.execPath)} -e ${quote("const s=require('net').connect(+process.argv[2],process.argv[1]);process.stdin.pipe(s);s.pipe(process.stdout);s.on('error',e=>{console.error('proxy: '+e.message);process.exit(3)})")}`;

const echoServer = () =>
  startFakeSshServer({
    exec: (command, ch) => {
      ch.write(`ran: ${command}\n`);
      ch.exit(0);
      ch.end();
    },
  });

for (const reader of ['ssh -G', 'built-in'] as const) {
  test(`ProxyCommand from the ssh config (${reader}): commands go through it, no TCP connection of cairn's own`, async (t) => {
    if (reader === 'ssh -G' && !findOpenSsh()) return t.pass('ssh is not installed');
    const server = await echoServer();
    // the inventory address is a name nothing resolves: only the ProxyCommand knows where to go
    const h = fakeHost('web1', server.port, 'web1.invalid');
    const config = join(h.options.home, 'ssh_config');
    writeFileSync(config, `Host web1.invalid\n  ProxyCommand ${PIPE} 127.0.0.1 %p\n`);
    const stderr: string[] = [];
    const conn = new SshConnector(h.spec, { ...h.settings, sshConfig: config }, { ...h.options, openssh: reader === 'built-in' ? null : undefined, onProxyStderr: (_h, l) => stderr.push(l) });
    try {
      const r = await conn.run(sh`echo ${'a b'}`);
      t.is(r.exitCode, 0);
      t.true(r.stdout.startsWith('ran: /bin/sh -c '), r.stdout);
      t.is(conn.stats.tcpConnections, 0);
      t.is(conn.stats.proxyCommands, 1);
      t.is(conn.target.proxyCommand, `${PIPE} 127.0.0.1 ${server.port}`);
      // the host key was recorded under the host name, as OpenSSH does
      t.true(readFileSync(h.settings.knownHosts, 'utf8').startsWith(`[web1.invalid]:${server.port} ssh-ed25519 `));
    } finally {
      await conn.close();
      await server.close();
    }
    t.deepEqual(stderr, []);
  });
}

test('inventory proxy_command: a command that exits early is the error, with its exit code and stderr, not retried', async (t) => {
  const server = await echoServer();
  const h = fakeHost('web1', server.port);
  const command = "sh -c 'echo no route to bastion >&2; echo second line >&2; exit 7'";
  const stderr: string[] = [];
  const conn = new SshConnector({ ...h.spec, proxyCommand: command }, h.settings, { ...h.options, onProxyStderr: (host, l) => stderr.push(`${host}: ${l}`) });
  try {
    const started = Date.now();
    const err = await t.throwsAsync(conn.connect(), { instanceOf: UnreachableError });
    t.true(Date.now() - started < 3000, 'not retried with pauses');
    t.is(
      err!.message,
      `web1 is unreachable: ProxyCommand ${command} (inventory) exited with code 7 before the SSH handshake with 127.0.0.1:${server.port} finished; its stderr: no route to bastion | second line. Run the command by hand to see why.`,
    );
    t.is(conn.stats.proxyCommands, 1);
    t.deepEqual(stderr, ['web1: no route to bastion', 'web1: second line']);
  } finally {
    await conn.close();
    await server.close();
  }
});

test('a ProxyCommand that is not found says so (exit 127)', async (t) => {
  const h = fakeHost('web1', 22);
  const conn = new SshConnector({ ...h.spec, proxyCommand: 'cairn-no-such-proxy %h %p' }, h.settings, { ...h.options, onProxyStderr: () => undefined });
  const err = await t.throwsAsync(conn.connect(), { instanceOf: UnreachableError });
  t.regex(err!.message, /ProxyCommand cairn-no-such-proxy 127\.0\.0\.1 22 \(inventory\) exited with code 127 \(command not found\)/);
  await conn.close();
});

test('a host name with shell metacharacters is refused before anything runs', async (t) => {
  const h = fakeHost('web1', 22, 'a$(touch /tmp/cairn-pwned)');
  const conn = new SshConnector({ ...h.spec, proxyCommand: 'nc %h %p' }, h.settings, { ...h.options, openssh: null });
  const err = await t.throwsAsync(conn.connect(), { instanceOf: UnreachableError });
  t.regex(err!.message, /the host name "a\$\(touch \/tmp\/cairn-pwned\)" for %h has characters a shell would act on/);
  t.is(conn.stats.proxyCommands, 0);
  // OpenSSH (ssh -G) refuses such a name itself
  if (!findOpenSsh()) return;
  const viaG = new SshConnector({ ...h.spec, proxyCommand: 'nc %h %p' }, h.settings, h.options);
  const err2 = await t.throwsAsync(viaG.connect(), { instanceOf: UnreachableError });
  t.regex(err2!.message, /OpenSSH refused the ssh settings: .* failed \(exit 255\): hostname contains invalid characters\. OpenSSH would not connect either/);
});

test('HashKnownHosts yes: the new key is recorded hashed, and ssh-keygen finds it', async (t) => {
  const server = await echoServer();
  const h = fakeHost('web1', server.port);
  const config = join(h.options.home, 'ssh_config');
  writeFileSync(config, 'Host *\n  HashKnownHosts yes\n');
  const conn = new SshConnector(h.spec, { ...h.settings, sshConfig: config }, h.options);
  try {
    await conn.run(sh`true`);
  } finally {
    await conn.close();
    await server.close();
  }
  const text = readFileSync(h.settings.knownHosts, 'utf8');
  t.regex(text, /^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ssh-ed25519 \S+\n$/);
  t.regex(conn.stats.recordedHostKeys[0]!, /\(hashed\)$/);
  try {
    const found = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${server.port}`, '-f', h.settings.knownHosts], { encoding: 'utf8' });
    t.regex(found, /Host \[127\.0\.0\.1\]:\d+ found: line 1/);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return t.pass('ssh-keygen is not installed');
    throw err;
  }
});
