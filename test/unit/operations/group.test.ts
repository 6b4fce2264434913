import test from 'ava';
import { group, parseGroupFile, type GroupParams } from '../../../src/operations/group.ts';
import { AlpineChroot, chrootUnavailable, ctx, alpine, debian, planCase, summary, withFacts, type PlanCase } from './_sysops.ts';

const cases: PlanCase<GroupParams>[] = [
  { title: 'alpine: create', params: { id: 'g', name: 'nomad' }, probe: { group: '' }, expect: { kind: 'change', commands: ['addgroup nomad'] } },
  {
    title: 'alpine: create a system group with a gid',
    params: { id: 'g', name: 'consul', gid: 470, system: true },
    probe: { group: '' },
    expect: { kind: 'change', commands: ['addgroup -S -g 470 consul'] },
  },
  {
    title: 'debian: create a system group with a gid',
    params: { id: 'g', name: 'consul', gid: 470, system: true },
    facts: debian,
    probe: { group: '' },
    expect: { kind: 'change', commands: ['groupadd --system --gid 470 consul'] },
  },
  { title: 'exists -> noop', params: { id: 'g', name: 'consul' }, probe: { group: 'consul:x:470:' }, expect: { kind: 'noop', text: /gid 470/ } },
  { title: 'exists with the wanted gid -> noop', params: { id: 'g', name: 'consul', gid: 470 }, probe: { group: 'consul:x:470:a,b' }, expect: { kind: 'noop' } },
  {
    title: 'exists with another gid -> fail, never renumbered',
    params: { id: 'g', name: 'consul', gid: 471 },
    probe: { group: 'consul:x:470:' },
    expect: { kind: 'fail', text: /exists with gid 470, wanted 471.*groupmod -g 471 consul/ },
  },
  {
    title: 'unknown OS family -> fail',
    params: { id: 'g', name: 'consul' },
    facts: withFacts(alpine, { os: { ...alpine.os, family: 'unknown' } }),
    probe: { group: '' },
    expect: { kind: 'fail', text: /unknown OS family/ },
  },
];

for (const c of cases) {
  test(`group: ${c.title}`, (t) => {
    const s = summary(planCase(group(c.params), c));
    t.is(s.kind, c.expect.kind, s.text);
    if (c.expect.commands) t.deepEqual(s.commands, c.expect.commands);
    if (c.expect.text) t.regex(s.text, c.expect.text);
  });
}

test('group: the probe reads only the group line (awk, no getent)', (t) => {
  t.is(group({ id: 'g', name: 'nomad' }).probe(ctx(alpine))!.display, "{ printf '\\n%s\\n' @@cairn:group\nawk -F: -v n=nomad '$1 == n' /etc/group\n}");
});

for (const [what, p, re] of [
  ['uppercase name', { name: 'Nomad' }, /group 'g': param `name` must be a user\/group name.*fix:/],
  ['name with a colon', { name: 'a:b' }, /`name` must be a user\/group name/],
  ['negative gid', { name: 'a', gid: -1 }, /`gid` must be a non-negative integer/],
  ['fractional gid', { name: 'a', gid: 1.5 }, /`gid` must be a non-negative integer/],
  ['empty id', { id: '', name: 'a' }, /group: param `id` must be a non-empty string/],
] as [string, Partial<GroupParams>, RegExp][]) {
  test(`group: rejects ${what}`, (t) => {
    t.throws(() => group({ id: 'g', name: 'x', ...p }), { message: re });
  });
}

test('parseGroupFile skips malformed lines', (t) => {
  const g = parseGroupFile('root:x:0:root\nbad line\nwheel:x:10:root,alice\nnogid:x::\n');
  t.deepEqual([...g.keys()], ['root', 'wheel']);
  t.deepEqual(g.get('wheel')?.members, ['root', 'alice']);
});

const why = chrootUnavailable();
test('group: addgroup twice in an Alpine 3.19 chroot (second run: noop)', (t) => {
  if (why) return t.pass(`skipped: ${why}`);
  const root = new AlpineChroot();
  try {
    const op = group({ id: 'g', name: 'cairntest', gid: 4711, system: true });
    const first = root.apply(op);
    t.is(first.plan.kind, 'change');
    t.deepEqual(first.errors, []);
    t.is(root.apply(op).plan.kind, 'noop');
    t.regex(root.sh('grep ^cairntest: /etc/group').stdout, /^cairntest:x:4711:$/m);
    t.is(root.apply(group({ id: 'g', name: 'cairntest', gid: 4712 })).plan.kind, 'fail');
  } finally {
    root.remove();
  }
});
