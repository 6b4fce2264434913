import test from 'ava';
import { readFileSync } from 'node:fs';
import preflight, { cgroupFindings, kernelFindings } from '../../../roles/preflight/index.ts';
import type { Facts } from '../../../src/facts/types.ts';
import type { Plan } from '../../../src/operations/operation.ts';
import { alpineFacts, debianFacts, roleContext, validate, withFacts } from './_base.ts';

/** Facts captured from a real booted Debian 12 bed host (kernel 6.18, cgroup v1 hybrid, no IPVLAN). */
const booted = (JSON.parse(readFileSync(new URL('../../fixtures/facts/debian12-amd64-systemd-booted.json', import.meta.url), 'utf8')) as { facts: Facts }).facts;
const text = (p: Plan) => (p.kind === 'noop' ? p.reason : p.kind === 'change' ? p.reason : p.message);

function run(vars: Record<string, unknown>, facts: Facts) {
  const ctx = roleContext(preflight, vars, facts);
  return preflight.steps(ctx).map((op) => ({ id: op.id, plan: op.plan(undefined, { host: 'h1', facts, bake: false }) }));
}

test('a real booted bed host passes with the defaults (overlay networks not required)', (t) => {
  const r = run({}, booted);
  t.deepEqual(r.map((x) => x.plan.kind), ['noop', 'noop']);
  t.regex(text(r[0]!.plan), /the 18 features checked are present in \/proc\/config\.gz/);
  t.regex(text(r[1]!.plan), /cpuset, cpu, blkio, memory, pids \(cgroup v1\)/);
});

test('overlay networks on the same host: CONFIG_IPVLAN is reported by name with what it breaks; fail or warn by mode', (t) => {
  const failed = run({ preflight_overlay_networks: true }, booted)[0]!.plan;
  t.is(failed.kind, 'fail');
  t.regex(text(failed), /CONFIG_IPVLAN is missing in \/proc\/config\.gz: No ipvlan: ipvlan networks for tasks cannot be created\./);
  t.regex(text(failed), /preflight_mode: warn/);
  t.is(run({ preflight_overlay_networks: true, preflight_mode: 'warn' }, booted)[0]!.plan.kind, 'warn');
  t.is(run({ preflight_overlay_networks: true, preflight_ignore_features: ['IPVLAN'] }, booted)[0]!.plan.kind, 'noop');
});

test('every missing feature is listed (an embedded kernel)', (t) => {
  const r = kernelFindings({ kernel: { release: '6.1.0-rpi', config: { NAMESPACES: 'y', NET_NS: 'y', VETH: 'm' }, configSource: '/boot/config-6.1.0-rpi' } }, { overlayNetworks: false, ignore: [] });
  t.true('problems' in r);
  const lines = 'problems' in r ? r.problems : [];
  t.is(lines.length, 15);
  t.true(lines.includes('CONFIG_BRIDGE_NETFILTER is missing in /boot/config-6.1.0-rpi: No br_netfilter: bridged traffic skips iptables, so port mappings and service routing silently fail.'));
  t.false(lines.some((l) => l.includes('CONFIG_VETH')), 'a module counts as present');
});

test('no kernel config: a clear message naming both places looked at', (t) => {
  const r = kernelFindings({ kernel: { release: '6.6.31+rpt-rpi-v8', config: undefined, configSource: undefined } }, { overlayNetworks: false, ignore: [] });
  t.regex('problems' in r ? r.problems[0]! : '', /no \/proc\/config\.gz and no \/boot\/config-6\.6\.31\+rpt-rpi-v8, so the 18 kernel features .* cannot be checked/);
  const p = run({}, withFacts(debianFacts, { kernel: { release: '6.6', config: undefined, configSource: undefined } }))[0]!.plan;
  t.is(p.kind, 'fail');
});

test('cgroups: v2 without memory (a Raspberry Pi kernel >= 6.12) names the controller and the cmdline.txt fix', (t) => {
  const r = cgroupFindings({ cgroup: { version: 2, controllers: ['cpuset', 'cpu', 'io', 'pids'] }, os: debianFacts.os, supervisors: debianFacts.supervisors }, ['cpuset', 'cpu', 'io', 'memory', 'pids']);
  const lines = 'problems' in r ? r.problems : [];
  t.regex(lines[0]!, /cgroup v2 controller memory is not available/);
  t.regex(lines[1]!, /cgroup_enable=memory to \/boot\/firmware\/cmdline\.txt; reboot afterwards \(raspberrypi\/linux#6980\)/);
  t.regex(JSON.stringify(cgroupFindings({ cgroup: { version: 0, controllers: [] }, os: alpineFacts.os, supervisors: alpineFacts.supervisors }, ['cpu'])), /no cgroup filesystem is mounted/);
  const ok = cgroupFindings({ cgroup: { version: 2, controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids', 'hugetlb'] }, os: alpineFacts.os, supervisors: alpineFacts.supervisors }, ['cpuset', 'cpu', 'io', 'memory', 'pids']);
  t.deepEqual(ok, { ok: 'cgroup controllers present: cpuset, cpu, io, memory, pids (cgroup v2)' });
});

test('a chroot or bake: not checked (the running kernel is not the target one)', (t) => {
  const r = run({}, withFacts(alpineFacts, { chroot: true }));
  t.deepEqual(r.map((x) => x.plan.kind), ['noop', 'noop']);
  t.regex(text(r[0]!.plan), /not checked: the target is a chroot/);
});

test('vars are validated', (t) => {
  const p = validate(preflight, { preflight_mode: 'strict', preflight_cgroup_controllers: ['memory', 'ram'], preflight_ignore_features: ['IPVLAN', 'FOO'] });
  const all = p.map((x) => x.message).join('\n');
  t.regex(all, /preflight_mode must be one of fail, warn, got "strict"/);
  t.regex(all, /preflight_cgroup_controllers has invalid entries: "ram"/);
  t.regex(all, /preflight_ignore_features has invalid entries: "FOO"/);
});
