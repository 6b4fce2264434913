import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { askPasswords } from '../../../src/cli/ask-passwords.ts';
import { UsageError } from '../../../src/core/errors.ts';
import { Secret } from '../../../src/core/secret.ts';
import { originOf } from '../../../src/core/secret-origin.ts';
import type { HostSpec } from '../../../src/inventory/types.ts';

const promptModule = fileURLToPath(new URL('../../../src/cli/prompt-secret.ts', import.meta.url));
const script = `import(${JSON.stringify(promptModule)}).then((m) => m.promptSecret('Password: ')).then((v) => console.log('GOT[' + v + ']'), (e) => { console.log('ERR ' + e.name + ': ' + e.message); })`;

const host = (name: string, over: Partial<HostSpec> = {}): HostSpec => ({ name, connection: 'ssh', address: name, become: 'sudo', vars: {}, groups: [], location: { file: 'inv.yml' }, ...over });

test('without a terminal: a clear error that says to use !secret_env', (t) => {
  // setsid: a new session with no controlling terminal; stdin a pipe
  const r = spawnSync('setsid', ['-w', process.execPath, '--import', 'tsx', '-e', script], { input: 'typed\n', encoding: 'utf8', timeout: 30_000 });
  t.regex(r.stdout, /ERR UsageError: cannot ask "Password:": there is no terminal .*password: !secret_env CAIRN_PASSWORD/, r.stderr);
});

test('on a terminal: reads one line without echo, Backspace edits', async (t) => {
  // script gives the child a pseudo-terminal as its controlling terminal
  const p = spawn('script', ['-qec', `${process.execPath} --import tsx -e ${JSON.stringify(script).replace(/\$/g, '\\$')}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let typed = false;
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('Password: ') && !typed) {
      typed = true;
      p.stdin.write('s3cret-typedX\u007f\r');
    }
  });
  const guard = setTimeout(() => p.kill('SIGKILL'), 20_000);
  await new Promise((r) => p.on('close', r));
  clearTimeout(guard);
  t.regex(out, /GOT\[s3cret-typed\]/);
  t.false(out.replace(/GOT\[s3cret-typed\]/, '').includes('s3cret-typed'), `echoed: ${out}`);
});

test('askPasswords: asks once each, gives it to every host without one, marks where it came from', async (t) => {
  const own = new Secret('own-pw');
  const hosts = [host('a'), host('b', { password: own }), host('c')];
  const asked: string[] = [];
  await askPasswords({ askPass: true, askBecomePass: true }, hosts, async (q) => {
    asked.push(q);
    return q.startsWith('SSH') ? 'login-typed' : 'sudo-typed';
  });
  t.deepEqual(asked, ['SSH password: ', 'become (sudo) password: ']);
  t.is(hosts[0]!.password!.reveal(), 'login-typed');
  t.is(hosts[1]!.password, own, 'the inventory wins');
  t.is(hosts[2]!.password, hosts[0]!.password);
  t.is(hosts[2]!.becomePassword!.reveal(), 'sudo-typed');
  t.is(originOf(hosts[0]!.password), 'typed at --ask-pass');
});

test('askPasswords: nothing asked without the flags; an empty answer is an error', async (t) => {
  await askPasswords({}, [host('a')], () => t.fail() as never);
  await t.throwsAsync(askPasswords({ askPass: true }, [host('a')], async () => ''), { instanceOf: UsageError, message: /--ask-pass: no password was typed/ });
});
