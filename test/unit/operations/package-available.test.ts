import test from 'ava';
import { packagesAvailable, parseApkPolicy, parseAptPolicy } from '../../../src/operations/package-available.ts';
import { SECTION_PREFIX } from '../../../src/facts/gather.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import type { OpContext, Plan } from '../../../src/operations/operation.ts';
import { AlpineChroot, chrootUnavailable, withFacts, alpine } from './_sysops.ts';
import { probeResult } from './_run-local.ts';

const apk: OpContext = { host: 'alp1', facts: stubFacts[0] as Facts, bake: false };
const apt: OpContext = { host: 'deb1', facts: stubFacts[1] as Facts, bake: false };
const s = (sections: Record<string, string>) => probeResult(Object.entries(sections).map(([k, v]) => `\n${SECTION_PREFIX}${k}\n${v}\n`).join(''));
const text = (p: Plan) => (p.kind === 'noop' ? p.reason : p.kind === 'change' ? p.reason : p.message);

test('parseApkPolicy: repositories per package; unknown packages print nothing', (t) => {
  const out = parseApkPolicy('busybox policy:\n  1.36.1-r15:\n    /media/apks\n  1.36.1-r19:\n    lib/apk/db/installed\n');
  t.deepEqual(out.get('busybox'), ['/media/apks', 'lib/apk/db/installed']);
  t.is(out.get('docker'), undefined);
});

test('parseAptPolicy: installed and candidate, (none) is absent', (t) => {
  const out = parseAptPolicy('unbound:\n  Installed: (none)\n  Candidate: 1.17.1-2+deb12u4\n  Version table:\n     1.17.1-2+deb12u4 500\ndocker.io:\n  Installed: (none)\n  Candidate: (none)\n');
  t.deepEqual(out.get('unbound'), { candidate: '1.17.1-2+deb12u4' });
  t.deepEqual(out.get('docker.io'), {});
});

test('plan: apk: not offered -> fail naming the package, the repositories and the hint', (t) => {
  const op = packagesAvailable({ id: 'a', names: ['docker'], hint: 'Alpine ships docker in its community repository' });
  const p = op.plan(s({ policy: '', repos: '/media/apks' }), apk);
  t.is(text(p), 'docker cannot be installed on alp1: no configured apk repository offers it (repositories: /media/apks). Alpine ships docker in its community repository');
});

test('plan: apt: a candidate or an installed version -> noop; empty lists are named', (t) => {
  const op = packagesAvailable({ id: 'a', names: ['unbound', 'docker.io'] });
  t.is(op.plan(s({ policy: 'unbound:\n  Installed: 1.17\n  Candidate: (none)\ndocker.io:\n  Installed: (none)\n  Candidate: 20.10\n', repos: 'deb file:/media/debs ./', lists: '1' }), apt).kind, 'noop');
  const p = op.plan(s({ policy: '', repos: '', lists: '0' }), apt);
  t.regex(text(p), /unbound, docker\.io cannot be installed on deb1: no configured apt repository offers them \(repositories: none configured\) \(the apt package lists are empty: run apt-get update\)/);
});

test('params', (t) => {
  t.throws(() => packagesAvailable({ id: 'a', names: [] }), { message: /param `names`/ });
  t.throws(() => packagesAvailable({ id: 'a', names: ['docker; rm -rf /'] }), { message: /param `names`/ });
});

test('Alpine 3.19 chroot with the offline test repository: busybox is offered, docker and unbound are not', (t) => {
  const why = chrootUnavailable();
  if (why) return t.pass(`skipped: ${why}`);
  const root = new AlpineChroot();
  try {
    const f = withFacts(alpine, { chroot: true });
    t.is(root.apply(packagesAvailable({ id: 'a', names: ['busybox', 'chrony'] }), f, false).plan.kind, 'noop');
    const p = root.apply(packagesAvailable({ id: 'a', names: ['docker', 'unbound', 'busybox'] }), f, false).plan;
    t.is(p.kind, 'fail');
    t.regex(text(p), /^docker, unbound cannot be installed on h1: no configured apk repository offers them \(repositories: \/media\/apks\)/);
  } finally {
    root.remove();
  }
});
