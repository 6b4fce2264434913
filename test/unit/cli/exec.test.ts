import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.ts';
import { adhocExitCode, adhocRecap, commandText, formatAdhocResult } from '../../../src/cli/exec-command.ts';
import { adhocCommand } from '../../../src/engine/adhoc.ts';
import { startFakeSshServer, keyPair } from '../../helpers/fake-ssh-server.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), isTTY: false }, out, err };
}

function inventory(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-exec-'));
  const file = join(dir, 'inventory.yml');
  writeFileSync(file, yaml);
  return file;
}

test('the command words are joined with spaces, as ssh does; none is a usage error', (t) => {
  t.is(commandText(['echo', 'a b', '$HOME']), 'echo a b $HOME');
  t.throws(() => commandText([]), { message: /needs a command after the host pattern/ });
});

test("the command is one quoted word for the login user's shell", (t) => {
  t.is(adhocCommand("echo 'x' && id").text, `exec "\${SHELL:-/bin/sh}" -c 'echo '\\''x'\\'' && id'`);
});

test('output is grouped per host with prefixes; the recap and exit code', (t) => {
  const ok = { host: 'a', exitCode: 0, stdout: 'one\ntwo\n', stderr: '', durationMs: 1234 };
  const bad = { host: 'b', exitCode: 3, stdout: '', stderr: 'oops\n', durationMs: 10 };
  const gone = { host: 'c', stdout: '', stderr: '', durationMs: 5, unreachable: true, error: 'c is unreachable: connection refused' };
  t.deepEqual(formatAdhocResult(ok), ['a | ok | exit 0 | 1.2s', 'a > one', 'a > two']);
  t.deepEqual(formatAdhocResult(bad), ['b | FAILED | exit 3 | 0.0s', 'b ! oops']);
  t.deepEqual(formatAdhocResult(gone), ['c | UNREACHABLE | 0.0s', 'c ! c is unreachable: connection refused']);
  t.is(adhocRecap([ok, bad, gone]), 'exec: 3 hosts: 1 ok, 1 failed (b exit 3), 1 unreachable (c)');
  t.is(adhocExitCode([ok]), 0);
  t.is(adhocExitCode([ok, bad]), 1);
  t.is(adhocExitCode([ok, gone]), 1);
});

test('cairn exec on local hosts: the pattern selects like --limit, exit 0 only if every host exits 0', async (t) => {
  const file = inventory('hosts:\n  l1: { connection: local }\n  l2: { connection: local }\n  other: { connection: local }\ngroups:\n  pair: { hosts: [l1, l2] }\n');
  const c = capture();
  t.is(await main(['exec', '-i', file, 'pair', '--', 'echo', 'hi from "$0"', '&&', 'echo', 'err', '>&2'], c.io), 0, c.err.join('\n'));
  const text = c.out.join('\n');
  t.regex(text, /^l1 \| ok \| exit 0 \| \d+\.\ds$/m);
  t.regex(text, /^l2 > hi from /m);
  t.regex(text, /^l1 ! err$/m);
  t.notRegex(text, /other/);
  t.is(c.out.at(-1), 'exec: 2 hosts: 2 ok, 0 failed, 0 unreachable');
  const fail = capture();
  t.is(await main(['exec', '-i', file, 'l*,!l2', '--', 'exit 4'], fail.io), 1);
  t.is(fail.out.at(-1), 'exec: 1 host: 0 ok, 1 failed (l1 exit 4), 0 unreachable');
  const json = capture();
  t.is(await main(['exec', '-i', file, 'l2', '--json', '--', 'printf', 'x'], json.io), 0);
  const doc = JSON.parse(json.out.join('\n'));
  t.is(doc.format, 1);
  t.is(doc.command, 'printf x');
  t.like(doc.hosts.l2, { exitCode: 0, stdout: 'x', stderr: '' });
});

test('cairn exec: an unknown pattern is a usage error (64), a missing command too', async (t) => {
  const file = inventory('hosts:\n  l1: { connection: local }\n');
  const c = capture();
  t.is(await main(['exec', '-i', file, 'nope', '--', 'true'], c.io), 64);
  t.regex(c.err.join('\n'), /nope/);
  t.is(await main(['exec', '-i', file, 'l1'], capture().io), 64);
});

test('cairn exec over ssh (loopback fake server): parallel, per-host results, an unreachable host fails the run', async (t) => {
  const server = await startFakeSshServer({
    exec: (command, ch) => {
      ch.write(`got ${command.length} bytes\n`);
      ch.exit(command.includes('exit 9') ? 9 : 0);
      ch.end();
    },
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-exec-ssh-'));
    const key = join(dir, 'id');
    writeFileSync(key, keyPair().private, { mode: 0o600 });
    const host = (name: string, port: number): string => `  ${name}: { address: 127.0.0.1, port: ${port}, user: root, identity: ${key} }\n`;
    const file = inventory(
      `connection:\n  known_hosts: ${join(dir, 'known_hosts')}\n  ssh_config: /dev/null\n  connect_timeout: 2s\nhosts:\n${host('s1', server.port)}${host('s2', server.port)}${host('dead', 1)}`,
    );
    const c = capture();
    t.is(await main(['exec', '-i', file, 's*', '--accept-new-host-keys', '--', 'uptime'], c.io), 0, c.out.join('\n') + c.err.join('\n'));
    t.is(c.out.at(-1), 'exec: 2 hosts: 2 ok, 0 failed, 0 unreachable');
    t.is(server.commands.filter((x) => x.includes('uptime')).length, 2);
    t.true(server.commands.every((x) => x.startsWith("/bin/sh -c '") && x.endsWith("\nexec \"${SHELL:-/bin/sh}\" -c uptime'")), server.commands.join('\n'));
    const all = capture();
    t.is(await main(['exec', '-i', file, 'all', '--', 'exit 9'], all.io), 1);
    t.regex(all.out.at(-1)!, /^exec: 3 hosts: 0 ok, 2 failed \(s1 exit 9, s2 exit 9\), 1 unreachable \(dead\)$/);
    t.regex(all.out.join('\n'), /^dead \| UNREACHABLE/m);
  } finally {
    await server.close();
  }
});
