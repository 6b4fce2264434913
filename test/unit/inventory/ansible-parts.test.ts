import test from 'ava';
import { InvalidInputError } from '../../../src/core/errors.ts';
import { connectionFields } from '../../../src/inventory/ansible/connection-vars.ts';
import { detectFormat } from '../../../src/inventory/ansible/detect.ts';
import { expandHostPattern } from '../../../src/inventory/ansible/host-pattern.ts';
import { iniValue, splitWords } from '../../../src/inventory/ansible/ini-words.ts';
import { parseInventoryText } from '../../../src/inventory/load.ts';

const names = (p: string) => {
  const r = expandHostPattern(p);
  return r.ok ? r.names : r.message;
};

test('host ranges: numbers, zero padding, letters, steps, several ranges, ports', (t) => {
  t.deepEqual(names('pi[01:03]'), ['pi01', 'pi02', 'pi03']);
  t.deepEqual(names('node[a:c].lan'), ['nodea.lan', 'nodeb.lan', 'nodec.lan']);
  t.deepEqual(names('db[1:10:4]'), ['db1', 'db5', 'db9']);
  t.deepEqual(names('r[1:2]n[a:b]'), ['r1na', 'r1nb', 'r2na', 'r2nb']);
  t.deepEqual(names('web[:2]'), ['web0', 'web1', 'web2']);
  t.deepEqual(expandHostPattern('web1:2222'), { ok: true, names: ['web1'], port: 2222 });
  t.deepEqual(names('10.0.0.[8:9]'), ['10.0.0.8', '10.0.0.9']);
});

test('host ranges: malformed ones say what is wrong', (t) => {
  t.regex(names('web[1:]') as string, /has no end/);
  t.regex(names('web[01:100]') as string, /same width/);
  t.regex(names('web[5:1]') as string, /begin is greater than end/);
  t.regex(names('web[1:c]') as string, /both be numbers or both single letters/);
  t.regex(names('web[1:3') as string, /not closed/);
  t.regex(names('web[1]') as string, /not \[begin:end\]/);
  t.regex(names('web[1:3:0]') as string, /step/);
  t.regex(names('w[0:99999]') as string, /more than 10000 hosts/);
  t.regex(names('web1:99999') as string, /outside 1-65535/);
});

test('INI words and values', (t) => {
  t.deepEqual(splitWords(`web1 a=1 b="x y" c='q' # comment`), [
    { text: 'web1', column: 1 },
    { text: 'a=1', column: 6 },
    { text: 'b=x y', column: 10 },
    { text: 'c=q', column: 18 },
  ]);
  t.regex(splitWords('web1 a="x') as string, /not closed/);
  t.is(iniValue('3'), 3);
  t.is(iniValue('1.5'), 1.5);
  t.is(iniValue('True'), true);
  t.is(iniValue('true'), 'true');
  t.is(iniValue('None'), null);
  t.is(iniValue('"a b"'), 'a b');
  t.deepEqual(iniValue("['a', 'b']"), ['a', 'b']);
  t.deepEqual(iniValue("{'k': 1}"), { k: 1 });
  t.is(iniValue('[not a list'), '[not a list');
  t.is(iniValue('pool.ntp.org'), 'pool.ntp.org');
});

test('format detection by content', (t) => {
  t.is(detectFormat('hosts:\n  web1:\ngroups: {}\n', 'inv.yml'), 'cairn');
  t.is(detectFormat('all:\n  hosts:\n    web1:\n', 'inv.yml'), 'ansible-yaml');
  t.is(detectFormat('webservers:\n  hosts:\n    web1:\ndbs:\n  children:\n    pg:\n', 'inv.yml'), 'ansible-yaml');
  t.is(detectFormat('[web]\nweb1\n', 'hosts'), 'ansible-ini');
  t.is(detectFormat('web1 ansible_host=10.0.0.1\nweb2\n', 'hosts'), 'ansible-ini');
  t.is(detectFormat('anything: 1\n', 'hosts.ini'), 'ansible-ini');
  t.is(detectFormat('', 'inv.yml'), 'cairn');
  t.is(detectFormat('vars: { a: 1 }\n', 'inv.yml'), 'cairn');
});

test('a file that is neither format gets a hint naming both', (t) => {
  const err = t.throws(() => parseInventoryText('webservers: [web1, web2]\n', 'inv.yml'), { instanceOf: InvalidInputError })!;
  const hinted = err.problems.filter((p) => /its own YAML \(hosts: map \+ groups:.*Ansible inventories \(YAML with all:.*INI with \[group\] sections/.test(p.fix ?? ''));
  t.is(hinted.length, 1, 'the hint is given once');
  const good = t.throws(() => parseInventoryText('hosts:\n  web1: { prot: 22 }\n', 'inv.yml'), { instanceOf: InvalidInputError })!;
  t.notRegex(good.problems[0]!.fix ?? '', /Ansible/, 'a cairn inventory with a typo gets no format hint');
});

test('connection vars: become, keys, ports, chroot, proxy jump', (t) => {
  const at = () => ({ file: 'x', line: 1 });
  const f = (vars: Record<string, unknown>) => connectionFields('h', vars, at);
  t.deepEqual(f({ ansible_become: 'yes' }).fields, { become: 'sudo' });
  t.deepEqual(f({ ansible_become: false, ansible_become_method: 'su' }), { fields: {}, problems: [] });
  t.deepEqual(f({ ansible_ssh_host: 'a.example', ansible_ssh_port: '2200', ansible_ssh_user: 'u' }).fields, { address: 'a.example', port: 2200, user: 'u' });
  t.deepEqual(f({ ansible_connection: 'chroot', ansible_host: '/mnt/img' }).fields, { connection: 'chroot', root: '/mnt/img' });
  t.deepEqual(f({ ansible_connection: 'local' }).fields, { connection: 'local' });
  t.deepEqual(f({ ansible_ssh_common_args: '-o ProxyCommand="ssh -W %h:%p -q admin@bastion"' }).fields, { proxy_jump: 'admin@bastion' });
  t.deepEqual(f({ ansible_ssh_extra_args: '-J j1,j2:2222' }).fields, { proxy_jump: 'j1,j2:2222' });
  t.regex(f({ ansible_connection: 'docker' }).problems[0]!.message, /'docker' is not supported/);
  t.regex(f({ ansible_become: true, ansible_become_user: 'postgres' }).problems[0]!.message, /cairn becomes root/);
  t.regex(f({ ansible_password: 'x' }).problems[0]!.fix!, /only as a secret.*--ask-pass/);
  t.regex(f({ ansible_port: 'abc' }).problems[0]!.message, /whole number 1-65535/);
  t.regex(f({ ansible_become: 'maybe' }).problems[0]!.message, /true or false/);
});
