import test from 'ava';
import { spawnSync } from 'node:child_process';
import { setSysctlLine, sysctl, sysctlFileValue, type SysctlParams } from '../../../src/operations/sysctl.ts';
import { AlpineChroot, chrootUnavailable, ctx, alpine, planCase, result, summary, expectWrite, type PlanCase } from './_sysops.ts';

const KEY = 'net.bridge.bridge-nf-call-iptables';
const FILE = `/etc/sysctl.d/90-cairn-${KEY}.conf`;
const PROC = '/proc/sys/net/bridge/bridge-nf-call-iptables';
const p = (over: Partial<SysctlParams> = {}): SysctlParams => ({ id: 's', name: KEY, value: 1, ...over });

const cases: PlanCase<SysctlParams>[] = [
  {
    title: 'persisted and live -> noop',
    params: p(),
    probe: { file: `# managed by cairn\n${KEY} = 1`, proc: 'mounted', live: '1' },
    expect: { kind: 'noop', text: /= 1$/ },
  },
  {
    title: 'nothing yet: write the file and set it live',
    params: p(),
    probe: { proc: 'mounted', live: '0' },
    expect: { kind: 'change', commands: [expectWrite(FILE, `# managed by cairn\n${KEY} = 1\n`), `printf '%s\\n' 1 > ${PROC}`] },
  },
  {
    title: 'live already right, file missing: the file only',
    params: p(),
    probe: { proc: 'mounted', live: '1' },
    expect: { kind: 'change', commands: [expectWrite(FILE, `# managed by cairn\n${KEY} = 1\n`)] },
  },
  {
    title: 'multi-field values compare by fields (the kernel prints tabs)',
    params: p({ name: 'net.ipv4.ip_local_port_range', value: '32768  60999' }),
    probe: { file: 'net.ipv4.ip_local_port_range=32768 60999', proc: 'mounted', live: '32768\t60999' },
    expect: { kind: 'noop' },
  },
  {
    title: 'a shared file keeps its other lines; only this key is replaced',
    params: p({ file: '/etc/sysctl.d/90-nomad.conf' }),
    probe: { file: `# nomad\nnet.ipv4.ip_forward = 1\n${KEY}=0\n${KEY} = 0`, proc: 'mounted', live: '1' },
    expect: { kind: 'change', commands: [expectWrite('/etc/sysctl.d/90-nomad.conf', `# nomad\nnet.ipv4.ip_forward = 1\n${KEY} = 1\n`)] },
  },
  {
    title: 'key missing (module not loaded) -> fail with the hint',
    params: p(),
    probe: { file: `${KEY} = 1`, proc: 'mounted' },
    expect: { kind: 'fail', text: /does not exist on h1's kernel \(\/proc\/sys\/net\/bridge\/bridge-nf-call-iptables is missing\): load br_netfilter first.*ignoreLive/ },
  },
  {
    title: 'read-only /proc/sys (container) -> fail',
    params: p(),
    probe: { file: `${KEY} = 1`, proc: 'mounted', live: '0', 'read-only': 'yes' },
    expect: { kind: 'fail', text: /read-only \(a container/ },
  },
  {
    title: 'read-only but already right -> noop',
    params: p(),
    probe: { file: `${KEY} = 1`, proc: 'mounted', live: '1', 'read-only': 'yes' },
    expect: { kind: 'noop' },
  },
  {
    title: 'ignoreLive: read-only -> warn when the file is right',
    params: p({ ignoreLive: true }),
    probe: { file: `${KEY} = 1`, proc: 'mounted', live: '0', 'read-only': 'yes' },
    expect: { kind: 'warn', text: /read-only/ },
  },
  {
    title: 'ignoreLive: key missing -> the file is still written, with a warning',
    params: p({ ignoreLive: true }),
    probe: { proc: 'mounted' },
    expect: { kind: 'change', commands: [expectWrite(FILE, `# managed by cairn\n${KEY} = 1\n`)], warnings: /does not exist/ },
  },
  {
    title: 'no /proc (a chroot, not in bake mode) -> fail',
    params: p(),
    probe: { file: `${KEY} = 1` },
    expect: { kind: 'fail', text: /\/proc\/sys is not mounted/ },
  },
  {
    title: 'bake: the file only, live state not looked at',
    params: p(),
    bake: true,
    probe: {},
    expect: { kind: 'change', commands: [expectWrite(FILE, `# managed by cairn\n${KEY} = 1\n`)] },
  },
  {
    title: 'bake: file right -> noop',
    params: p(),
    bake: true,
    probe: { file: `${KEY} = 1` },
    expect: { kind: 'noop', text: /bake: live value not checked/ },
  },
];

for (const c of cases) {
  test(`sysctl: ${c.title}`, (t) => {
    const plan = planCase(sysctl(c.params), c);
    const s = summary(plan);
    t.is(s.kind, c.expect.kind, s.text);
    if (c.expect.commands) t.deepEqual(s.commands, c.expect.commands);
    if (c.expect.text) t.regex(s.text, c.expect.text);
    if (c.expect.warnings) t.regex(plan.kind === 'change' ? (plan.warnings ?? []).join('\n') : '', c.expect.warnings);
  });
}

test('sysctl: bake probe reads only the file', (t) => {
  const probe = sysctl(p()).probe(ctx(alpine, true))!.display;
  t.notRegex(probe, /proc/);
  t.regex(probe, /cat \/etc\/sysctl\.d\/90-cairn-net\.bridge\.bridge-nf-call-iptables\.conf/);
});

test('sysctl: the diff shows file and live values', (t) => {
  const plan = planCase(sysctl(p()), { title: '', params: p(), probe: { proc: 'mounted', live: '0' }, expect: { kind: 'change' } });
  t.is(plan.kind === 'change' ? plan.diff : '', `${FILE}: (unset) -> 1\nlive ${KEY}: 0 -> 1`);
});

for (const [what, over, re] of [
  ['a key without dots', { name: 'forward' }, /sysctl 's': param `name` must be a dotted sysctl key/],
  ['a key with a slash', { name: 'net/ipv4/ip_forward' }, /`name` must be a dotted/],
  ['a multi-line value', { value: '1\n2' }, /`value` must be a non-empty one-line/],
  ['an empty value', { value: ' ' }, /`value` must be a non-empty/],
  ['a file outside .conf', { file: '/etc/sysctl.conf.d/x' }, /`file` must be an absolute path ending in \.conf/],
] as [string, Partial<SysctlParams>, RegExp][]) {
  test(`sysctl: rejects ${what}`, (t) => {
    t.throws(() => sysctl(p(over)), { message: re });
  });
}

test('setSysctlLine / sysctlFileValue', (t) => {
  t.is(setSysctlLine(undefined, 'a.b', '1'), '# managed by cairn\na.b = 1\n');
  t.is(setSysctlLine('x.y=2\n-a.b = 0\n', 'a.b', '1'), 'x.y=2\na.b = 1\n');
  t.is(sysctlFileValue('a.b=0\n# a.b = 5\n a.b = 1 \n', 'a.b'), '1');
  t.is(sysctlFileValue('a.bc = 1', 'a.b'), undefined);
});

test('sysctl: the live probe runs read-only on this controller (dash)', (t) => {
  const op = sysctl({ id: 's', name: 'kernel.ostype', value: 'Linux', file: '/nonexistent-cairn/90-test.conf' });
  const probe = op.probe(ctx(alpine))!;
  const r = spawnSync('/bin/sh', ['-c', probe.text], { encoding: 'utf8' });
  const s = summary(op.plan(result(r.stdout), ctx(alpine)));
  // live value is right (no live write planned), only the file is missing
  t.is(s.kind, 'change');
  t.is(s.commands?.length, 1);
  t.regex(s.text, /persist in/);
  const ro = sysctl({ id: 's', name: 'kernel.ostype', value: 'BSD' });
  const r2 = spawnSync('/bin/sh', ['-c', ro.probe(ctx(alpine))!.text], { encoding: 'utf8' });
  t.regex(summary(ro.plan(result(r2.stdout), ctx(alpine))).text, /\/proc\/sys\/kernel\/ostype is read-only/);
});

const why = chrootUnavailable();
test('sysctl: bake mode in an Alpine 3.19 chroot writes the file once', (t) => {
  if (why) return t.pass(`skipped: ${why}`);
  const root = new AlpineChroot();
  try {
    const op = sysctl(p());
    const first = root.apply(op);
    t.is(first.plan.kind, 'change');
    t.deepEqual(first.errors, []);
    t.is(root.apply(op).plan.kind, 'noop');
    t.is(root.sh(`cat ${FILE}`).stdout, `# managed by cairn\n${KEY} = 1\n`);
    t.is(root.sh(`stat -c %a ${FILE}`).stdout.trim(), '644');
  } finally {
    root.remove();
  }
});
