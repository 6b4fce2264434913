import test from 'ava';
import { spawnSync } from 'node:child_process';
import base, { baseVarProblems, parsePortRange, DEFAULTS } from '../../../roles/base/index.ts';
import { sysctl } from '../../../src/operations/sysctl.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { alpineFacts, debianFacts, roleContext, stepIds, validate, withFacts } from './_base.ts';

test('defaults validate cleanly', (t) => {
  t.deepEqual(validate(base, {}), []);
  t.deepEqual(baseVarProblems(DEFAULTS), []);
});

test('port range: parsed, and an overlap with Nomad dynamic ports is an input error located at the var', (t) => {
  t.deepEqual(parsePortRange('32768 60999'), [32768, 60999]);
  t.deepEqual(parsePortRange('32768\t60999'), [32768, 60999]);
  t.regex(String(parsePortRange('60999 32768')), /LOW <= HIGH/);
  t.regex(String(parsePortRange('1-2')), /two port numbers/);
  const p = validate(base, { base_ip_local_port_range: '10000 40000' }, ['h1', 'h2']);
  t.is(p.length, 1);
  t.deepEqual(p[0]!.location, { file: 'inv.yml', line: 7 });
  t.regex(p[0]!.message, /^base: base_ip_local_port_range "10000 40000" overlaps Nomad's dynamic ports 20000-32000: .* \(hosts h1, h2\)$/);
  t.regex(p[0]!.fix ?? '', /'32768 60999'/);
  // the nomad range is read from the shared vars
  t.deepEqual(validate(base, { base_ip_local_port_range: '10000 19999' }), []);
  t.is(validate(base, { base_ip_local_port_range: '32768 60999', nomad_max_dynamic_port: 40000 }).length, 1);
});

test('every var is checked, all problems at once', (t) => {
  const p = validate(base, {
    base_packages: { alpine: ['ok', 'Bad Name'], gentoo: [] },
    base_users: [{ name: 'Root!' }, { name: 'ok', colour: 'red' }],
    base_kernel_modules: ['br netfilter'],
    base_sysctls: { 'net.ipv4.ip_local_port_range': '1 2', nodots: 1 },
    base_sysctl_live: 'maybe',
    base_cmdline_add: ['a b'],
    base_rc_cgroup_mode: 'v2',
  });
  const text = p.map((x) => x.message).join('\n');
  for (const re of [
    /base_packages\.alpine has invalid entries: "Bad Name"/,
    /base_packages\.gentoo is not an OS family/,
    /base_users\[0\] needs a name/,
    /base_users\[1\] has unknown keys colour/,
    /base_kernel_modules has invalid entries/,
    /base_sysctls sets net\.ipv4\.ip_local_port_range/,
    /base_sysctls has a key that is not a sysctl name: "nodots"/,
    /base_sysctl_live must be one of required, best-effort/,
    /base_cmdline_add has invalid entries/,
    /base_rc_cgroup_mode must be one of unified, hybrid, legacy/,
  ]) {
    t.regex(text, re);
  }
});

test('steps: Alpine gets rc_cgroup_mode, a Raspberry Pi OS host gets cmdline.txt; built-in modules are not loaded', (t) => {
  const a = stepIds(base, roleContext(base, {}, alpineFacts));
  t.deepEqual(a, [
    'packages',
    'module-bridge',
    'module-br_netfilter',
    'sysctl-net.bridge.bridge-nf-call-iptables',
    'sysctl-net.bridge.bridge-nf-call-ip6tables',
    'sysctl-net.bridge.bridge-nf-call-arptables',
    'sysctl-net.ipv4.ip_local_port_range',
    'cgroup-mode',
  ]);
  const d = stepIds(base, roleContext(base, { base_users: [{ name: 'deploy', groups: ['docker'] }], base_groups: [{ name: 'docker', system: true }] }, debianFacts));
  t.deepEqual(d.slice(0, 3), ['packages', 'group-docker', 'user-deploy']);
  t.is(d.at(-1), 'cmdline');
  const builtin = withFacts(debianFacts, { kernel: { release: '6.6', config: { BRIDGE: 'y', BRIDGE_NETFILTER: 'm' }, configSource: '/proc/config.gz' } });
  const steps = base.steps(roleContext(base, {}, builtin));
  const ctx = { host: 'h1', facts: builtin, bake: false };
  const bridge = steps.find((s) => s.id === 'module-bridge')!;
  t.deepEqual(bridge.plan(undefined, ctx), { kind: 'noop', reason: 'kernel module bridge is built into the kernel (CONFIG_BRIDGE=y in /proc/config.gz): nothing to load or persist' });
  t.is(steps.find((s) => s.id === 'module-br_netfilter')!.kind, 'kernelModule');
  t.not(steps.find((s) => s.id === 'module-br_netfilter')!.probe(ctx), undefined, 'a module (m) is loaded by the kernelModule op');
  t.false(stepIds(base, roleContext(base, { base_cgroups: false }, alpineFacts)).includes('cgroup-mode'));
});

test('the rc.conf edit warns that a reboot is needed', (t) => {
  const steps = base.steps(roleContext(base, {}, alpineFacts));
  const op = steps.find((s) => s.id === 'cgroup-mode')!;
  const content = Buffer.from('#rc_cgroup_mode="hybrid"\n').toString('base64');
  const probe = { command: 'p', durationMs: 0, exitCode: 0, stderr: '', stdout: `\n@@cairn:state\ntype=file\nstat=644 0 0 root root 25\n@@cairn:content\n${content}\n` };
  const p = op.plan(probe, { host: 'h1', facts: alpineFacts, bake: false });
  t.is(p.kind, 'change');
  t.deepEqual(p.kind === 'change' ? p.warnings : [], ['reboot required: OpenRC mounts cgroups (rc_cgroup_mode="unified") at boot']);
});

test('sysctl read-only detection: a read-only /proc/sys is found under busybox too (the bed containers)', (t) => {
  if (process.getuid?.() !== 0 || spawnSync('unshare', ['--help']).status !== 0) return t.pass('needs root and unshare');
  const bb = ['/usr/bin/busybox', '/bin/busybox'].find((p) => spawnSync('test', ['-x', p]).status === 0);
  const op = sysctl({ id: 's', name: 'net.ipv4.ip_local_port_range', value: '32768 60999' });
  const probe = op.probe({ host: 'h', facts: stubFacts[0] as Facts, bake: false })!.text;
  for (const shell of ['sh', ...(bb ? [bb] : [])]) {
    const argv = shell === 'sh' ? ['sh', '-c'] : [shell, 'sh', '-c'];
    const script = `mount --bind /proc/sys /proc/sys && mount -o remount,ro,bind /proc/sys && exec "$0" "$@"`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, ...argv, probe], { encoding: 'utf8' });
    t.regex(r.stdout, /@@cairn:read-only/, `${shell}: ${r.stderr}`);
    t.notRegex(r.stdout, /@@cairn:live\n[^\n]*\nyes/, `${shell}: the live value is one line`);
  }
});
