import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { buildStandin } from '../../agent/standin.ts';
import { join } from 'node:path';
import { cniPlugins, parsePluginVersion } from '../../../src/operations/cni-plugins.ts';
import { SECTION_PREFIX } from '../../../src/facts/gather.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import type { OpContext } from '../../../src/operations/operation.ts';
import { probeResult, runProbe, targets } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[0] as Facts, bake: false };
const REQUIRED = ['loopback', 'bridge', 'host-local', 'firewall', 'portmap'];
const all = REQUIRED.map((p) => `${p} ok`).join('\n');
const s = (sections: Record<string, string>) => probeResult(Object.entries(sections).map(([k, v]) => `\n${SECTION_PREFIX}${k}\n${v}\n`).join(''));
const op = () => cniPlugins({ id: 'check', dir: '/opt/cni/bin', required: REQUIRED });
const message = (p: ReturnType<ReturnType<typeof op>['plan']>) => (p.kind === 'fail' || p.kind === 'warn' ? p.message : p.kind === 'noop' ? p.reason : p.reason);

test('parsePluginVersion: the about text of skel.PluginMain', (t) => {
  t.is(parsePluginVersion('CNI bridge plugin v1.4.0\nCNI protocol versions supported: 0.1.0, 1.0.0'), '1.4.0');
  t.is(parsePluginVersion('CNI bridge plugin version unknown'), undefined);
  t.is(parsePluginVersion('CNI portmap plugin v1.4.0'), undefined, 'the bridge line only');
});

test('plan: every plugin, bridge v1.4.0 -> noop', (t) => {
  const p = op().plan(s({ plugins: all, bridge: 'CNI bridge plugin v1.4.0\nexit=0' }), ctx);
  t.deepEqual(p, { kind: 'noop', reason: 'CNI plugins present in /opt/cni/bin (loopback, bridge, host-local, firewall, portmap); bridge v1.4.0 >= 1.3.0' });
});

test('plan: bridge v1.2.0 -> fail naming the version gate and nomad#24292', (t) => {
  const p = op().plan(s({ plugins: all, bridge: 'CNI bridge plugin v1.2.0\nexit=0' }), ctx);
  t.is(p.kind, 'fail');
  t.regex(message(p), /is v1\.2\.0, older than 1\.3\.0: Nomad runs CNI CHECK on restore only with a bridge plugin reporting a parseable version >= 1\.3\.0.*hashicorp\/nomad#24292/);
});

test("plan: Debian's 1.1.1 build says 'version unknown' -> fail (unparseable is an error)", (t) => {
  const p = op().plan(s({ plugins: all, bridge: 'CNI bridge plugin version unknown\nCNI protocol versions supported: 0.1.0, 1.0.0\nexit=0' }), ctx);
  t.is(p.kind, 'fail');
  t.regex(message(p), /does not report a parseable version \(it printed: "CNI bridge plugin version unknown"\).*>= 1\.3\.0/);
});

test('plan: a build that cannot run here (glibc plugin on musl) -> fail saying so', (t) => {
  const p = op().plan(s({ plugins: all, bridge: "env: can't execute '/opt/cni/bin/bridge': No such file or directory\nexit=127" }), ctx);
  t.regex(message(p), /cannot run on h \(musl, amd64\).*another libc/);
});

test('plan: missing / not executable plugins are named', (t) => {
  const p = op().plan(s({ plugins: 'loopback ok\nbridge ok\nhost-local missing\nfirewall not-executable\nportmap missing' }), ctx);
  t.is(message(p), 'CNI plugins in /opt/cni/bin are incomplete (missing: host-local, portmap; not executable: firewall); Nomad bridge networking needs loopback, bridge, host-local, firewall, portmap');
});

test('plan: not installed yet (check mode on a fresh host) -> not checked', (t) => {
  const gated = cniPlugins({ id: 'check', dir: '/opt/cni/bin', required: REQUIRED, onlyIf: '/opt/cni/bin' });
  t.regex(message(gated.plan(s({ absent: 'yes' }), ctx)), /not checked yet/);
});

test('params', (t) => {
  t.throws(() => cniPlugins({ id: 'c', dir: 'opt', required: REQUIRED }), { message: /absolute path/ });
  t.throws(() => cniPlugins({ id: 'c', dir: '/opt', required: [] }), { message: /param `required`/ });
  t.throws(() => cniPlugins({ id: 'c', dir: '/opt', required: REQUIRED, minBridgeVersion: '1.3' }), { message: /x\.y\.z/ });
});

// for real: the stand-in plugins test/agent/build.sh builds (1.4.0 passes, 1.2.0 fails)
let agentDir: string | undefined;
function agentBuilt(): boolean {
  if (agentDir) return true;
  try {
    agentDir = buildStandin().dir;
    return true;
  } catch {
    return false;
  }
}

for (const target of targets().filter((x) => x.name === 'dash' || x.name === 'busybox' || x.name === 'alpine-3.19-x86_64')) {
  test(`${target.name}: the stand-in plugins of build.sh run for real: 1.4.0 passes, 1.2.0 fails`, (t) => {
    if (!agentBuilt()) return t.pass('test/agent/build.sh cannot build here (compilers missing)');
    for (const [version, kind] of [
      ['1.4.0', 'noop'],
      ['1.2.0', 'fail'],
    ] as const) {
      const dir = target.tempDir();
      execFileSync('tar', ['-xzf', join(agentDir!, `cni-plugins-linux-amd64-v${version}.tgz`), '-C', target.outside(dir)]);
      const o = cniPlugins({ id: 'check', dir, required: REQUIRED });
      const c = { host: target.name, facts: target.facts, bake: false };
      const p = o.plan(runProbe(target, o, c), c);
      t.is(p.kind, kind, `${version}: ${message(p)}`);
      if (kind === 'fail') t.regex(message(p), /v1\.2\.0, older than 1\.3\.0/);
    }
    // a plugin that prints no version at all
    const dir = target.tempDir();
    mkdirSync(target.outside(dir), { recursive: true });
    for (const p of REQUIRED) {
      writeFileSync(target.outside(`${dir}/${p}`), '#!/bin/sh\necho "CNI bridge plugin version unknown" >&2\nexit 1\n');
      chmodSync(target.outside(`${dir}/${p}`), 0o755);
    }
    const o = cniPlugins({ id: 'check', dir, required: REQUIRED });
    const c = { host: target.name, facts: target.facts, bake: false };
    t.regex(message(o.plan(runProbe(target, o, c), c)), /does not report a parseable version/);
  });
}
