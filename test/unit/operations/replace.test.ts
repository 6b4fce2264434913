import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { replace, parseReplacement } from '../../../src/operations/replace.ts';
import type { ChangePlan, OpContext } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { applyTwice, fakePathProbe, targets } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[0] as Facts, bake: false };
const file = (content: string) => fakePathProbe({ type: 'file', stat: `644 0 0 root root ${Buffer.byteLength(content)}`, content });
const after = (p: ReturnType<ReturnType<typeof replace>['plan']>) => {
  const e = (p as ChangePlan).effects?.find((x) => x.kind === 'state');
  return e && e.kind === 'state' ? e.state.content?.toString() : undefined;
};

const cases: Array<[string, string, string | RegExp, string, string]> = [
  ['every match, Python-style group', 'Port 22\n#Port 2222\n', '^#?Port (\\d+)$', 'Port \\1 # was \\1', 'Port 22 # was 22\nPort 2222 # was 2222\n'],
  ['JavaScript-style groups and $&', 'a=1 b=2\n', '(\\w)=(\\d)', '$2=$1[$&]', '1=a[a=1] 2=b[b=2]\n'],
  ['named groups both ways', 'user=root\n', '(?<k>\\w+)=(?<v>\\w+)', '\\g<v>:$<k>', 'root:user\n'],
  ['literal backslash and dollar', 'x\n', 'x', '\\\\ $$1', '\\ $1\n'],
  ['^ and $ at every line (multiline; like Python, also after the last newline)', 'a\nb\n', '^', '> ', '> a\n> b\n> '],
  ['a RegExp keeps its flags, g added', 'A a\n', /a/i, 'b', 'b b\n'],
  ['across lines', 'start\nmid\nend\n', 'start\\n[^]*?end', 'x', 'x\n'],
];
for (const [name, before, regexp, repl, want] of cases) {
  test(`plan: ${name}`, (t) => {
    const p = replace({ id: 'r', path: '/etc/x', regexp, replace: repl }).plan(file(before), ctx);
    t.is(p.kind, 'change', JSON.stringify(p));
    t.is(after(p), want);
  });
}

test('plan: no match, or already replaced -> noop with the reason', (t) => {
  t.deepEqual(replace({ id: 'r', path: '/etc/x', regexp: 'nothing', replace: 'y' }).plan(file('a\n'), ctx), { kind: 'noop', reason: '/etc/x: no match of /nothing/gm' });
  const p = replace({ id: 'r', path: '/etc/x', regexp: '^(Subsystem sftp ).*$', replace: '\\1internal-sftp' }).plan(file('Subsystem sftp internal-sftp\n'), ctx);
  t.deepEqual(p, { kind: 'noop', reason: '/etc/x: 1 match of /^(Subsystem sftp ).*$/gm already replaced' });
});

test('plan: the file must exist; a diff is shown', (t) => {
  t.deepEqual(replace({ id: 'r', path: '/etc/x', regexp: 'a' }).plan(fakePathProbe({ type: 'absent' }), ctx), {
    kind: 'fail',
    message: "replace 'r': /etc/x does not exist; set create: true to create it",
  });
  const p = replace({ id: 'r', path: '/etc/x', regexp: 'yes', replace: 'no' }).plan(file('PermitRootLogin yes\n'), ctx) as ChangePlan;
  t.regex(p.diff ?? '', /^-PermitRootLogin yes\n\+PermitRootLogin no$/m);
  t.is(p.reason, 'edit /etc/x: replace 1 match of /yes/gm');
});

test('params: a group the pattern lacks, a bad pattern, a bad reference are refused before any host', (t) => {
  t.throws(() => replace({ id: 'r', path: '/etc/x', regexp: '(a)', replace: '\\2' }), { message: /param `replace` refers to group 2, which \/\(a\)\/gm does not have; fix: use a group of the pattern \(it has 1\)/ });
  t.throws(() => replace({ id: 'r', path: '/etc/x', regexp: '(a)', replace: '$<n>' }), { message: /refers to group n/ });
  t.throws(() => replace({ id: 'r', path: '/etc/x', regexp: '(' }), { message: /param `regexp` does not compile/ });
  t.throws(() => replace({ id: 'r', path: '/etc/x', regexp: 'a', replace: '\\g<1' }), { message: /unreadable group reference/ });
  t.throws(() => replace({ id: 'r', path: 'etc/x', regexp: 'a' }), { message: /param `path` must be an absolute path/ });
});

test('parseReplacement: literal text and groups', (t) => {
  t.deepEqual(parseReplacement('r', 'a\\1b$2\\g<x>$$\\\\'), [{ text: 'a' }, { group: 1 }, { text: 'b' }, { group: 2 }, { group: 'x' }, { text: '$\\' }]);
});

for (const target of targets()) {
  test(`${target.name}: replace in a real file, twice (the second run is a noop)`, (t) => {
    const path = `${target.tempDir()}/sshd_config`;
    writeFileSync(target.outside(path), "Port 22\nSubsystem sftp /usr/lib/ssh/sftp-server\n# it's \"quoted\" $(id)\n");
    applyTwice(t, target, replace({ id: 's', path, regexp: '^(Subsystem\\s+sftp\\s+)\\S+$', replace: '\\1internal-sftp' }));
    t.is(readFileSync(target.outside(path), 'utf8'), "Port 22\nSubsystem sftp internal-sftp\n# it's \"quoted\" $(id)\n");
  });
}
