import test from 'ava';
import { group } from '../../../src/operations/group.ts';
import { parsePasswdLine, user, type UserParams } from '../../../src/operations/user.ts';
import { PathLedger } from '../../../src/engine/path-ledger.ts';
import { AlpineChroot, alpine, chrootUnavailable, ctx, debian, result, sections, expectInstall, planCase, summary, type PlanCase } from './_sysops.ts';

const GROUPS = 'root:x:0:root\nwheel:x:10:root\ndocker:x:101:\nconsul:x:470:\nnomad:x:480:\n';
const PASSWD_CONSUL = 'consul:x:470:470:Linux User,,,:/var/lib/consul:/sbin/nologin';
const REWRITE = (s: string, g: string) =>
  expectInstall(
    `awk -F: -v OFS=: -v n=consul -v s=${s} -v g=${g} '$1 == n { if (s != "") $7 = s; if (g != "") $4 = g } { print }' /etc/passwd > /etc/passwd.cairn-tmp && chown root:root /etc/passwd.cairn-tmp && chmod 0644 /etc/passwd.cairn-tmp`,
    '/etc/passwd',
  );

const cases: PlanCase<UserParams>[] = [
  {
    title: 'alpine: system user with its existing group, no home',
    params: { id: 'u', name: 'consul', group: 'consul', system: true, home: '/var/lib/consul' },
    probe: { passwd: '', group: GROUPS },
    expect: { kind: 'change', commands: ['adduser -D -S -H -h /var/lib/consul -s /sbin/nologin -G consul consul'] },
  },
  {
    title: 'alpine: default group is created first, supplementary groups added one by one',
    params: { id: 'u', name: 'alice', groups: ['wheel', 'docker'], shell: '/bin/ash' },
    probe: { passwd: '', group: GROUPS },
    expect: { kind: 'change', commands: ['addgroup alice', 'adduser -D -s /bin/ash -G alice alice', 'addgroup alice wheel', 'addgroup alice docker'] },
  },
  {
    title: 'alpine: fixed uid',
    params: { id: 'u', name: 'nomad', uid: 480, system: true, createHome: true },
    probe: { passwd: '', group: GROUPS },
    expect: { kind: 'change', commands: ['adduser -D -S -u 480 -s /sbin/nologin -G nomad nomad'] },
  },
  {
    title: 'debian: system user',
    params: { id: 'u', name: 'consul', system: true, home: '/var/lib/consul', groups: ['docker'] },
    facts: debian,
    probe: { passwd: '', group: GROUPS },
    expect: { kind: 'change', commands: ['useradd --system --home-dir /var/lib/consul --no-create-home --shell /usr/sbin/nologin --gid consul --groups docker consul'] },
  },
  {
    title: 'debian: the default group is created when missing',
    params: { id: 'u', name: 'alice' },
    facts: debian,
    probe: { passwd: '', group: GROUPS },
    expect: { kind: 'change', commands: ['groupadd alice', 'useradd --create-home --gid alice alice'] },
  },
  {
    title: 'exists as wanted -> noop',
    params: { id: 'u', name: 'consul', system: true, home: '/var/lib/consul', shell: '/sbin/nologin', uid: 470 },
    probe: { passwd: PASSWD_CONSUL, group: GROUPS },
    expect: { kind: 'noop', text: /consul exists \(uid 470, group consul\)/ },
  },
  {
    title: 'membership through the primary group counts',
    params: { id: 'u', name: 'consul', groups: ['consul'] },
    probe: { passwd: PASSWD_CONSUL, group: GROUPS },
    expect: { kind: 'noop' },
  },
  {
    title: 'alpine: shell drift is fixed by rewriting /etc/passwd atomically',
    params: { id: 'u', name: 'consul', shell: '/bin/sh' },
    probe: { passwd: PASSWD_CONSUL, group: GROUPS },
    expect: { kind: 'change', commands: [REWRITE('/bin/sh', '')], text: /shell \/sbin\/nologin -> \/bin\/sh/ },
  },
  {
    title: 'alpine: primary group drift is fixed too',
    params: { id: 'u', name: 'consul', group: 'nomad' },
    probe: { passwd: PASSWD_CONSUL, group: GROUPS },
    expect: { kind: 'change', commands: [REWRITE('', '480')] },
  },
  {
    title: 'alpine: missing memberships are added, others left alone',
    params: { id: 'u', name: 'consul', groups: ['wheel', 'docker'] },
    probe: { passwd: PASSWD_CONSUL, group: GROUPS.replace('docker:x:101:', 'docker:x:101:consul') },
    expect: { kind: 'change', commands: ['addgroup consul wheel'] },
  },
  {
    title: 'debian: shell, group and memberships with usermod',
    params: { id: 'u', name: 'consul', group: 'nomad', shell: '/bin/sh', groups: ['wheel', 'docker'] },
    facts: debian,
    probe: { passwd: PASSWD_CONSUL, group: GROUPS },
    expect: { kind: 'change', commands: ['usermod --shell /bin/sh consul', 'usermod --gid nomad consul', 'usermod --append --groups wheel,docker consul'] },
  },
  {
    title: 'uid drift -> fail',
    params: { id: 'u', name: 'consul', uid: 999 },
    probe: { passwd: PASSWD_CONSUL, group: GROUPS },
    expect: { kind: 'fail', text: /exists with uid 470, wanted 999/ },
  },
  {
    title: 'home drift only -> warn',
    params: { id: 'u', name: 'consul', home: '/srv/consul' },
    probe: { passwd: PASSWD_CONSUL, group: GROUPS },
    expect: { kind: 'warn', text: /home \/var\/lib\/consul, wanted \/srv\/consul: not moved/ },
  },
  {
    title: 'home drift + a fix -> change with a warning',
    params: { id: 'u', name: 'consul', home: '/srv/consul', groups: ['wheel'] },
    probe: { passwd: PASSWD_CONSUL, group: GROUPS },
    expect: { kind: 'change', commands: ['addgroup consul wheel'], warnings: /not moved/ },
  },
  {
    title: 'a supplementary group that does not exist -> fail',
    params: { id: 'u', name: 'consul', groups: ['nope'] },
    probe: { passwd: '', group: GROUPS },
    expect: { kind: 'fail', text: /group\(s\) nope do not exist on h1; add group steps before this one/ },
  },
  {
    title: 'an explicit primary group that does not exist -> fail',
    params: { id: 'u', name: 'consul', group: 'nope' },
    probe: { passwd: '', group: GROUPS },
    expect: { kind: 'fail', text: /primary group 'nope' does not exist/ },
  },
];

for (const c of cases) {
  test(`user: ${c.title}`, (t) => {
    const plan = planCase(user(c.params), c);
    const s = summary(plan);
    t.is(s.kind, c.expect.kind, s.text);
    if (c.expect.commands) t.deepEqual(s.commands, c.expect.commands);
    if (c.expect.text) t.regex(s.text, c.expect.text);
    if (c.expect.warnings) t.regex(plan.kind === 'change' ? (plan.warnings ?? []).join('\n') : '', c.expect.warnings);
  });
}

for (const [what, p, re] of [
  ['a relative home', { home: 'var/lib/x' }, /user 'u': param `home` must be an absolute path/],
  ['a shell with a space', { shell: '/bin/s h' }, /`shell` must be an absolute path/],
  ['a bad group name', { groups: ['Wheel'] }, /`groups` must be a user\/group name/],
  ['groups not a list', { groups: 'wheel' as unknown as string[] }, /`groups` must be a list/],
  ['a bad uid', { uid: 'x' as unknown as number }, /`uid` must be a non-negative integer/],
] as [string, Partial<UserParams>, RegExp][]) {
  test(`user: rejects ${what}`, (t) => {
    t.throws(() => user({ id: 'u', name: 'x', ...p }), { message: re });
  });
}

test('parsePasswdLine', (t) => {
  t.deepEqual(parsePasswdLine(PASSWD_CONSUL), { name: 'consul', uid: 470, gid: 470, home: '/var/lib/consul', shell: '/sbin/nologin' });
  t.is(parsePasswdLine(''), undefined);
});

test('user and group steps of one run: a user is probed again after a step that changes one of its groups, not after an unrelated account change', (t) => {
  const c = ctx(alpine);
  const noGroups = result(sections({ passwd: '', group: 'root:x:0:root\n' }));
  const ledger = new PathLedger();
  const g = group({ id: 'g', name: 'docker' });
  const alice = user({ id: 'alice', name: 'alice', groups: ['docker'] });
  const bob = user({ id: 'bob', name: 'bob' });
  const svc = user({ id: 'svc', name: 'svc', group: 'alice' });
  for (const op of [g, alice, bob, svc]) ledger.probed(op);
  const gPlan = g.plan(result(sections({ group: '' })), c);
  t.is(gPlan.kind, 'change');
  ledger.record('r/g', gPlan.kind === 'change' ? (gPlan.effects ?? []) : []);
  t.true(ledger.needsProbe(alice, alice.paths ?? [], !!alice.planFrom), 'alice is in docker, which g creates');
  t.false(ledger.needsProbe(bob, bob.paths ?? [], !!bob.planFrom), 'bob needs nothing g changes');
  // bob's own creation (with its group bob) is no reason to probe svc, whose primary group is alice's
  const bobPlan = bob.plan(noGroups, c);
  ledger.record('r/bob', bobPlan.kind === 'change' ? (bobPlan.effects ?? []) : []);
  t.false(ledger.needsProbe(svc, svc.paths ?? [], !!svc.planFrom));
  ledger.probed(alice);
  const alicePlan = alice.plan(result(sections({ passwd: '', group: 'root:x:0:root\ndocker:x:101:\n' })), c);
  ledger.record('r/alice', alicePlan.kind === 'change' ? (alicePlan.effects ?? []) : []);
  t.true(ledger.needsProbe(svc, svc.paths ?? [], !!svc.planFrom), 'creating alice creates the group alice, svc\'s primary group');
  // a later file step on /etc/group reads what the account commands rewrote
  const later = {};
  t.true(ledger.since(later, ['/etc/group']).length > 0);
});

const why = chrootUnavailable();
test('user: addgroup/adduser twice in an Alpine 3.19 chroot, then drift fixed', (t) => {
  if (why) return t.pass(`skipped: ${why}`);
  const root = new AlpineChroot();
  try {
    t.deepEqual(root.apply(group({ id: 'g', name: 'svc', system: true })).errors, []);
    const op = user({ id: 'u', name: 'svc', group: 'svc', system: true, home: '/var/lib/svc' });
    const first = root.apply(op);
    t.is(first.plan.kind, 'change');
    t.deepEqual(first.errors, []);
    const again = root.apply(op);
    t.is(again.plan.kind, 'noop', JSON.stringify(again.plan));
    t.regex(root.sh('grep ^svc: /etc/passwd').stdout, /^svc:x:\d+:\d+:[^:]*:\/var\/lib\/svc:\/sbin\/nologin$/m);

    const drift = user({ id: 'u', name: 'svc', group: 'svc', system: true, shell: '/bin/sh', groups: ['wheel'] });
    const fix = root.apply(drift);
    t.is(fix.plan.kind, 'change');
    t.deepEqual(fix.errors, []);
    t.is(root.apply(drift).plan.kind, 'noop');
    t.regex(root.sh('grep ^svc: /etc/passwd').stdout, /:\/bin\/sh$/m);
    t.regex(root.sh('grep ^wheel: /etc/group').stdout, /[:,]svc$/m);
    t.is(root.sh('stat -c %a /etc/passwd').stdout.trim(), '644');

    // the default group (named like the user) is created with it
    const bob = user({ id: 'u2', name: 'bob' });
    t.deepEqual(root.apply(bob).errors, []);
    t.is(root.apply(bob).plan.kind, 'noop');
    t.regex(root.sh('id bob').stdout, /gid=\d+\(bob\)/);
  } finally {
    root.remove();
  }
});
