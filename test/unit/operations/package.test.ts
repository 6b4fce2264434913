import test from 'ava';
import { spawnSync } from 'node:child_process';
import { packages, parseDpkgQuery, type PackagesParams } from '../../../src/operations/package.ts';
import { AlpineChroot, alpine, chrootUnavailable, ctx, debian, planCase, summary, withFacts, type PlanCase } from './_sysops.ts';

const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

const cases: PlanCase<PackagesParams>[] = [
  {
    title: 'apk: all installed -> noop',
    params: { id: 'p', names: ['curl', 'jq'], state: 'present' },
    probe: { tool: '/sbin/apk', installed: 'curl\njq' },
    expect: { kind: 'noop', text: /installed: curl, jq/ },
  },
  {
    title: 'apk: installs only the missing ones, in one command',
    params: { id: 'p', names: ['curl', 'jq', 'e2fsprogs'], state: 'present' },
    probe: { tool: '/sbin/apk', installed: 'curl' },
    expect: { kind: 'change', commands: ['apk add --no-progress jq e2fsprogs </dev/null'] },
  },
  {
    title: 'apk: update refreshes the index in the same command',
    params: { id: 'p', names: ['jq'], state: 'present', update: true },
    probe: { tool: '/sbin/apk', installed: '' },
    expect: { kind: 'change', commands: ['apk add --no-progress --update-cache jq </dev/null'] },
  },
  {
    title: 'apk: update does nothing when nothing is missing',
    params: { id: 'p', names: ['jq'], state: 'present', update: true },
    probe: { tool: '/sbin/apk', installed: 'jq' },
    expect: { kind: 'noop' },
  },
  {
    title: 'apk: absent removes only the installed ones',
    params: { id: 'p', names: ['curl', 'jq'], state: 'absent' },
    probe: { tool: '/sbin/apk', installed: 'jq' },
    expect: {
      kind: 'change',
      commands: [
        'apk del --no-progress jq </dev/null\nleft=$(apk info -e jq || :)\nif [ -n "$left" ]; then echo "cairn: still installed because other packages need them (see apk info -r):" $left >&2; exit 1; fi',
      ],
    },
  },
  {
    title: 'apk: absent and nothing installed -> noop',
    params: { id: 'p', names: ['curl'], state: 'absent' },
    probe: { tool: '/sbin/apk', installed: '' },
    expect: { kind: 'noop', text: /not installed/ },
  },
  {
    title: 'apk missing on the host -> fail',
    params: { id: 'p', names: ['curl'], state: 'present' },
    probe: { tool: '', installed: '' },
    expect: { kind: 'fail', text: /apk not found on h1/ },
  },
  {
    title: 'apt: installs the missing (rc = config files only counts as missing)',
    params: { id: 'p', names: ['curl', 'jq', 'unbound'], state: 'present' },
    facts: debian,
    probe: { tool: '/usr/bin/dpkg-query', installed: 'curl ii \njq rc \n' },
    expect: { kind: 'change', commands: [`${APT} install -y --no-install-recommends jq unbound </dev/null`] },
  },
  {
    title: 'apt: update runs apt-get update first',
    params: { id: 'p', names: ['jq'], state: 'present', update: true },
    facts: debian,
    probe: { tool: '/usr/bin/dpkg-query', installed: '' },
    expect: { kind: 'change', commands: [`${APT} update </dev/null`, `${APT} install -y --no-install-recommends jq </dev/null`] },
  },
  {
    title: 'apt: held packages (hi) are installed',
    params: { id: 'p', names: ['jq'], state: 'present' },
    facts: debian,
    probe: { tool: '/usr/bin/dpkg-query', installed: 'jq hi \n' },
    expect: { kind: 'noop' },
  },
  {
    title: 'apt: absent',
    params: { id: 'p', names: ['jq', 'curl'], state: 'absent' },
    facts: debian,
    probe: { tool: '/usr/bin/dpkg-query', installed: 'jq ii \ncurl un \n' },
    expect: { kind: 'change', commands: [`${APT} remove -y jq </dev/null`] },
  },
  {
    title: 'unknown package manager -> fail',
    params: { id: 'p', names: ['jq'], state: 'present' },
    facts: withFacts(alpine, { packageManager: 'unknown' }),
    probe: {},
    expect: { kind: 'fail', text: /no supported package manager/ },
  },
];

for (const c of cases) {
  test(`packages: ${c.title}`, (t) => {
    const s = summary(planCase(packages(c.params), c));
    t.is(s.kind, c.expect.kind, s.text);
    if (c.expect.commands) t.deepEqual(s.commands, c.expect.commands);
    if (c.expect.text) t.regex(s.text, c.expect.text);
  });
}

test('packages: probes are one command for all names', (t) => {
  const op = packages({ id: 'p', names: ['curl', 'jq'], state: 'present' });
  t.regex(op.probe(ctx(alpine))!.display, /apk info -e curl jq/);
  t.regex(op.probe(ctx(debian))!.display, /dpkg-query -W -f '\$\{Package\} \$\{db:Status-Abbrev\}\\n' curl jq/);
});

const bad: [string, Partial<PackagesParams>, RegExp][] = [
  ['leading dash', { names: ['-f'] }, /packages 'p': param `names` has an invalid package name "-f".*fix:/],
  ['a space', { names: ['a b'] }, /invalid package name/],
  ['a version', { names: ['curl=8.0'] }, /invalid package name/],
  ['uppercase', { names: ['Curl'] }, /invalid package name/],
  ['empty list', { names: [] }, /`names` must be a non-empty list/],
  ['bad state', { state: 'installed' as 'present' }, /`state` must be 'present' or 'absent'/],
];
for (const [what, over, re] of bad) {
  test(`packages: rejects ${what} at construction`, (t) => {
    t.throws(() => packages({ id: 'p', names: ['jq'], state: 'present', ...over }), { message: re });
  });
}

test('parseDpkgQuery: only state letter i is installed', (t) => {
  t.deepEqual([...parseDpkgQuery('a ii \nb rc \nc un \nd iU \ne hi \n')], ['a', 'e']);
});

test('packages: the dpkg-query probe reads this Debian controller for real', (t) => {
  if (spawnSync('dpkg-query', ['--version']).status !== 0) return t.pass('no dpkg-query here');
  const op = packages({ id: 'p', names: ['dpkg', 'surely-not-a-package-xyz'], state: 'present' });
  const probe = op.probe(ctx(debian))!;
  const r = spawnSync('/bin/sh', ['-c', probe.text], { encoding: 'utf8' });
  t.is(r.status, 0);
  const s = summary(op.plan({ command: '', exitCode: 0, stdout: r.stdout, stderr: '', durationMs: 0 }, ctx(debian)));
  t.deepEqual(s.commands?.[0]?.endsWith('install -y --no-install-recommends surely-not-a-package-xyz </dev/null'), true);
});

const why = chrootUnavailable();
test('packages: apk add/del in an Alpine 3.19 chroot, twice each (second run: noop)', (t) => {
  if (why) return t.pass(`skipped: ${why}`);
  const root = new AlpineChroot();
  try {
    const add = packages({ id: 'p', names: ['yx', 'scanelf'], state: 'present' });
    const first = root.apply(add);
    t.is(first.plan.kind, 'change', JSON.stringify(first.plan));
    t.deepEqual(first.errors, []);
    t.is(root.apply(add).plan.kind, 'noop');
    t.is(root.sh('apk info -e yx scanelf').stdout, 'yx\nscanelf\n');
    const del = packages({ id: 'p', names: ['yx'], state: 'absent' });
    const d1 = root.apply(del);
    t.is(d1.plan.kind, 'change');
    t.deepEqual(d1.errors, []);
    t.is(root.apply(del).plan.kind, 'noop');
    t.is(root.sh('apk info -e yx').stdout, '');
    // scanelf is needed by musl-utils: apk del keeps it, and the op says so instead of looping
    const needed = root.apply(packages({ id: 'p', names: ['scanelf'], state: 'absent' }));
    t.is(needed.errors.length, 1);
    t.regex(needed.errors[0]!, /cairn: still installed because other packages need them \(see apk info -r\): scanelf/);
  } finally {
    root.remove();
  }
});
