import test from 'ava';
import { daemonReload, restartService, service, type ServiceParams, type ServiceTarget } from '../../../src/operations/service.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../../src/shell/sh.ts';
import { parseSections, section, withoutTerminal } from '../../../src/operations/kit.ts';
import { rcStatus, rcStatusProbe } from '../../../src/operations/service/openrc.ts';
import { parseSvstat } from '../../../src/operations/service/s6.ts';
import { AlpineChroot, chrootUnavailable, ctx, alpine, debian, planCase, summary, withFacts, type PlanCase } from './_sysops.ts';

/** Commands that start/stop/restart run without a terminal; this is their wrapper. */
const quiet = (cmd: string) => `(log=$(mktemp) || exit 1; { ${cmd}\n} </dev/null >"$log" 2>&1 && rc=0 || rc=$?; cat "$log" >&2; rm -f "$log"; exit $rc)`;
const started = { 'status-out': ' * status: started', 'status-exit': '0' };
const stopped = { 'status-out': ' * status: stopped', 'status-exit': '3' };
const sv = (over: Partial<ServiceParams> = {}): ServiceParams => ({ id: 'svc', name: 'nomad', enabled: true, state: 'started', ...over });

const openrc: PlanCase<ServiceParams>[] = [
  { title: 'enabled and running -> noop', params: sv(), probe: { script: 'yes', enabled: 'yes', ...started }, expect: { kind: 'noop', text: /nomad \(openrc\): enabled in default, running/ } },
  {
    title: 'enable and start (rc-service without a terminal)',
    params: sv(),
    probe: { script: 'yes', ...stopped },
    expect: { kind: 'change', commands: ['rc-update add nomad default', quiet('rc-service nomad start')], text: /enable in runlevel default, start/ },
  },
  { title: 'start only', params: sv(), probe: { script: 'yes', enabled: 'yes', ...stopped }, expect: { kind: 'change', commands: [quiet('rc-service nomad start')] } },
  {
    title: 'a running service is never restarted',
    params: sv({ enabled: false }),
    probe: { script: 'yes', enabled: 'yes', ...started },
    expect: { kind: 'change', commands: ['rc-update del nomad default'] },
  },
  {
    title: 'disable and stop',
    params: sv({ enabled: false, state: 'stopped' }),
    probe: { script: 'yes', enabled: 'yes', ...started },
    expect: { kind: 'change', commands: ['rc-update del nomad default', quiet('rc-service nomad stop')] },
  },
  {
    title: 'crashed (32): zap, then start',
    params: sv(),
    probe: { script: 'yes', enabled: 'yes', 'status-out': ' * status: crashed', 'status-exit': '32' },
    expect: { kind: 'change', commands: ['rc-service nomad zap >/dev/null', quiet('rc-service nomad start')], text: /start \(was crashed\)/ },
  },
  {
    title: "OpenRC's s6 supervisor: status exits 0 but says down -> start",
    params: sv({ name: 'toys6' }),
    probe: { script: 'yes', enabled: 'yes', 'status-out': 'down (exitcode 0) 5 seconds, normally up', 'status-exit': '0' },
    expect: { kind: 'change', commands: [quiet('rc-service toys6 start')] },
  },
  { title: 'starting (8) counts as running', params: sv(), probe: { script: 'yes', enabled: 'yes', 'status-exit': '8' }, expect: { kind: 'noop', text: /starting/ } },
  { title: 'another runlevel', params: sv({ runlevel: 'boot' }), probe: { script: 'yes', ...started }, expect: { kind: 'change', commands: ['rc-update add nomad boot'] } },
  { title: 'no init script -> fail', params: sv(), probe: { ...stopped }, expect: { kind: 'fail', text: /no init script \/etc\/init.d\/nomad on h1/ } },
  {
    title: 'status error (not booted by openrc) -> fail with its output',
    params: sv(),
    probe: { script: 'yes', 'status-out': ' * You are attempting to run an openrc service on a system which openrc did not boot.', 'status-exit': '1' },
    expect: { kind: 'fail', text: /rc-service status exited 1: \* You are attempting/ },
  },
  {
    title: 'bake: link the runlevel directly, never start',
    params: sv(),
    bake: true,
    probe: { script: 'yes' },
    expect: { kind: 'change', commands: ['mkdir -p /etc/runlevels/default && ln -sfn /etc/init.d/nomad /etc/runlevels/default/nomad'] },
  },
  { title: 'bake: enabled -> noop even though not running', params: sv(), bake: true, probe: { script: 'yes', enabled: 'yes' }, expect: { kind: 'noop' } },
  { title: 'bake: disable', params: sv({ enabled: false }), bake: true, probe: { script: 'yes', enabled: 'yes' }, expect: { kind: 'change', commands: ['rm -f /etc/runlevels/default/nomad'] } },
];

const systemd: PlanCase<ServiceParams>[] = ([
  { title: 'enabled and active -> noop', params: sv(), probe: { enabled: 'enabled', active: 'active', 'need-reload': 'no' }, expect: { kind: 'noop', text: /nomad \(systemd\): enabled, active/ } },
  {
    title: 'enable --now',
    params: sv(),
    probe: { enabled: 'disabled', active: 'inactive', 'need-reload': 'no' },
    expect: { kind: 'change', commands: [quiet('systemctl enable --now nomad')] },
  },
  {
    title: 'disable --now',
    params: sv({ enabled: false, state: 'stopped' }),
    probe: { enabled: 'enabled', active: 'active', 'need-reload': 'no' },
    expect: { kind: 'change', commands: [quiet('systemctl disable --now nomad')] },
  },
  {
    title: 'enabled, stopped wanted: stop only',
    params: sv({ state: 'stopped' }),
    probe: { enabled: 'enabled', active: 'active', 'need-reload': 'no' },
    expect: { kind: 'change', commands: [quiet('systemctl stop nomad')] },
  },
  {
    title: 'failed: reset-failed then start',
    params: sv(),
    probe: { enabled: 'enabled', active: 'failed', 'need-reload': 'no' },
    expect: { kind: 'change', commands: ['systemctl reset-failed nomad', quiet('systemctl start nomad')], text: /start \(was failed\)/ },
  },
  {
    title: 'a changed unit is reloaded before starting',
    params: sv(),
    probe: { enabled: 'enabled', active: 'inactive', 'need-reload': 'yes' },
    expect: { kind: 'change', commands: ['systemctl daemon-reload', quiet('systemctl start nomad')] },
  },
  { title: 'running is never restarted', params: sv(), probe: { enabled: 'enabled', active: 'active', 'need-reload': 'yes' }, expect: { kind: 'noop' } },
  { title: 'unit not found -> fail', params: sv(), probe: { enabled: '', active: 'inactive' }, expect: { kind: 'fail', text: /systemd unit nomad not found on h1/ } },
  { title: 'masked -> fail', params: sv(), probe: { enabled: 'masked', active: 'inactive' }, expect: { kind: 'fail', text: /masked.*systemctl unmask nomad/ } },
  { title: 'static and enabled wanted -> fail', params: sv(), probe: { enabled: 'static', active: 'active' }, expect: { kind: 'fail', text: /static.*\[Install\]/ } },
  { title: 'static and enabled: false -> fine', params: sv({ enabled: false }), probe: { enabled: 'static', active: 'active' }, expect: { kind: 'noop' } },
  { title: 'bake: enable without --now', params: sv(), bake: true, probe: { enabled: 'disabled' }, expect: { kind: 'change', commands: ['systemctl enable nomad'] } },
  { title: 'bake: enabled -> noop', params: sv(), bake: true, probe: { enabled: 'enabled' }, expect: { kind: 'noop' } },
] as PlanCase<ServiceParams>[]).map((c) => ({ ...c, facts: debian }));

const S6 = { servicedir: 'yes', link: '/etc/s6/sv/nomad' };
const WAIT = "i=0; until s6-svok /run/service/nomad; do i=$((i+1)); if [ \"$i\" -gt 10 ]; then echo 'cairn: no s6-supervise for /run/service/nomad after 10 s: is s6-svscan running on /run/service?' >&2; exit 1; fi; sleep 1; done";
const s6: PlanCase<ServiceParams>[] = ([
  { title: 'linked and up -> noop', params: sv(), probe: { ...S6, svstat: 'up (pid 42) 100 seconds' }, expect: { kind: 'noop', text: /nomad \(s6\): linked in \/run\/service, up/ } },
  {
    title: 'link, rescan, wait for s6-supervise, up',
    params: sv(),
    probe: { servicedir: 'yes', svstat: 's6-svstat: fatal: unable to read status for /run/service/nomad: No such file or directory' },
    expect: {
      kind: 'change',
      commands: ['mkdir -p /run/service && ln -sfn /etc/s6/sv/nomad /run/service/nomad', 's6-svscanctl -a /run/service', WAIT, 's6-svc -u /run/service/nomad'],
    },
  },
  { title: 'linked, down -> s6-svc -u', params: sv(), probe: { ...S6, svstat: 'down (exitcode 0) 3 seconds, normally up' }, expect: { kind: 'change', commands: ['s6-svc -u /run/service/nomad'] } },
  { title: 'stop', params: sv({ state: 'stopped' }), probe: { ...S6, svstat: 'up (pid 42) 100 seconds' }, expect: { kind: 'change', commands: ['s6-svc -d /run/service/nomad'] } },
  {
    title: 'disable: down and exit the supervisor, unlink, rescan',
    params: sv({ enabled: false, state: 'stopped' }),
    probe: { ...S6, svstat: 'up (pid 42) 100 seconds' },
    expect: { kind: 'change', commands: ['if s6-svok /run/service/nomad; then s6-svc -dx /run/service/nomad; fi', 'rm -f /run/service/nomad', 's6-svscanctl -an /run/service'] },
  },
  {
    title: 'custom scan and service dirs (OpenRC s6-scan)',
    params: sv({ name: 'toys6', scanDir: '/run/openrc/s6-scan/', serviceDir: '/etc/s6-tb/toys6' }),
    probe: { servicedir: 'yes', link: '/etc/s6-tb/toys6', svstat: 'up (pid 1) 1 seconds' },
    expect: { kind: 'noop', text: /linked in \/run\/openrc\/s6-scan/ },
  },
  { title: 'enabled: false + started is impossible -> fail', params: sv({ enabled: false }), probe: { ...S6 }, expect: { kind: 'fail', text: /cannot run; use enabled: true/ } },
  { title: 'no service directory -> fail', params: sv(), probe: {}, expect: { kind: 'fail', text: /s6 service directory \/etc\/s6\/sv\/nomad does not exist on h1/ } },
  { title: 'something else at the link path -> fail', params: sv(), probe: { servicedir: 'yes', 'not-a-link': 'yes' }, expect: { kind: 'fail', text: /not a symlink/ } },
  { title: 'bake: link only', params: sv(), bake: true, probe: { servicedir: 'yes' }, expect: { kind: 'change', commands: ['mkdir -p /run/service && ln -sfn /etc/s6/sv/nomad /run/service/nomad'] } },
] as PlanCase<ServiceParams>[]).map((c) => ({ ...c, params: { supervisor: 's6' as const, ...c.params } }));

const general: PlanCase<ServiceParams>[] = [
  { title: 'unknown init without supervisor -> fail', params: sv(), facts: withFacts(alpine, { init: 'unknown' }), probe: {}, expect: { kind: 'fail', text: /init system is unknown; set supervisor/ } },
  { title: 'a supervisor that is not installed -> fail', params: sv({ supervisor: 's6' }), facts: debian, probe: {}, expect: { kind: 'fail', text: /s6 is not installed on this host/ } },
];

for (const [group, cases] of [['openrc', openrc], ['systemd', systemd], ['s6', s6], ['general', general]] as const) {
  for (const c of cases) {
    test(`service ${group}: ${c.title}`, (t) => {
      const s = summary(planCase(service(c.params), c));
      t.is(s.kind, c.expect.kind, s.text);
      if (c.expect.commands) t.deepEqual(s.commands, c.expect.commands);
      if (c.expect.text) t.regex(s.text, c.expect.text);
    });
  }
}

const rt = (over: Partial<ServiceTarget> = {}): ServiceTarget => ({ id: 'restart', name: 'nomad', ...over });
const restarts: PlanCase<ServiceTarget>[] = [
  { title: 'openrc running -> restart', params: rt(), probe: started, expect: { kind: 'change', commands: [quiet('rc-service nomad restart')] } },
  { title: 'openrc stopped -> left alone', params: rt(), probe: stopped, expect: { kind: 'noop', text: /stopped: not restarted/ } },
  { title: 'systemd active -> restart', params: rt(), facts: debian, probe: { active: 'active' }, expect: { kind: 'change', commands: [quiet('systemctl restart nomad')] } },
  { title: 'systemd inactive -> left alone', params: rt(), facts: debian, probe: { active: 'inactive' }, expect: { kind: 'noop' } },
  { title: 's6 up -> s6-svc -r', params: rt({ supervisor: 's6' }), probe: { svstat: 'up (pid 3) 9 seconds' }, expect: { kind: 'change', commands: ['s6-svc -r /run/service/nomad'] } },
  { title: 'bake -> nothing', params: rt(), bake: true, expect: { kind: 'noop', text: /bake mode/ } },
];
for (const c of restarts) {
  test(`restartService: ${c.title}`, (t) => {
    const s = summary(planCase(restartService(c.params), c));
    t.is(s.kind, c.expect.kind, s.text);
    if (c.expect.commands) t.deepEqual(s.commands, c.expect.commands);
    if (c.expect.text) t.regex(s.text, c.expect.text);
  });
}

test('restartService: no probe in bake mode', (t) => {
  t.is(restartService(rt()).probe(ctx(alpine, true)), undefined);
});

test('daemonReload: systemd only, never in bake mode', (t) => {
  const op = daemonReload({ id: 'reload' });
  t.deepEqual(summary(op.plan(undefined, ctx(debian))), { kind: 'change', text: 'systemctl daemon-reload', commands: ['systemctl daemon-reload'] });
  t.is(op.plan(undefined, ctx(debian, true)).kind, 'noop');
  t.is(op.plan(undefined, ctx(alpine)).kind, 'noop');
});

test('service: probes per supervisor (live vs bake)', (t) => {
  const op = service(sv());
  t.regex(op.probe(ctx(alpine))!.display, /timeout "\$tl" rc-service nomad status >"\$f" 2>&1 <\/dev\/null; c=\$\?/);
  t.notRegex(op.probe(ctx(alpine, true))!.display, /rc-service/);
  t.regex(op.probe(ctx(debian))!.display, /systemctl is-enabled nomad.*\n.*\n.*systemctl is-active nomad/s);
  t.notRegex(op.probe(ctx(debian, true))!.display, /is-active/);
  t.true(op.barrier);
});

for (const [what, over, re] of [
  ['a bad name', { name: '../x' }, /service 'svc': param `name` must be a service name/],
  ['a bad state', { state: 'running' as 'started' }, /`state` must be 'started' or 'stopped'/],
  ['enabled not boolean', { enabled: 'yes' as unknown as boolean }, /`enabled` must be true or false/],
  ['a bad supervisor', { supervisor: 'runit' as 's6' }, /`supervisor` must be openrc, s6 or systemd/],
  ['a relative scanDir', { scanDir: 'run/service' }, /`scanDir` must be an absolute path/],
] as [string, Partial<ServiceParams>, RegExp][]) {
  test(`service: rejects ${what}`, (t) => {
    t.throws(() => service(sv(over)), { message: re });
  });
}

test('rcStatus and parseSvstat', (t) => {
  t.is(rcStatus(new Map([['status-exit', '16']])), 'inactive');
  t.deepEqual(rcStatus(new Map([['status-exit', '127'], ['status-out', 'rc-service: not found']])), { error: 'rc-service status exited 127: rc-service: not found' });
  // supervisor=s6: a down service, and a link no s6-supervise watches, are stopped; other failures stay errors
  t.is(rcStatus(new Map([['status-exit', '0'], ['status-out', 'down (exitcode 0) 3 seconds, normally up']])), 'stopped');
  t.is(rcStatus(new Map([['status-exit', '1'], ['status-out', 's6-svstat: fatal: unable to read status for /run/openrc/s6-scan/x: s6-supervise not running']])), 'stopped');
  t.deepEqual(rcStatus(new Map([['status-exit', '1'], ['status-out', 'x: permission denied']])), { error: 'rc-service status exited 1: x: permission denied' });
  t.is(parseSvstat('up (pid 1) 2 seconds, ready 2 seconds'), 'up');
  t.is(parseSvstat('down (signal SIGTERM) 2 seconds'), 'down');
  t.is(parseSvstat('s6-svstat: fatal: supervisor not listening'), 'unsupervised');
});

/** A fake rc-service: `hang` waits (and leaves a child holding its output), `stopped` answers as OpenRC does. */
const FAKE_RC = `#!/bin/sh
case "$1" in
hang) echo 'waiting for the lock'; sleep 6 & sleep 30 ;;
*) echo ' * status: stopped'; exit 3 ;;
esac
`;

function probeWith(run: (text: string) => { stdout: string }, name: string): { status: ReturnType<typeof rcStatus>; ms: number } {
  const t0 = Date.now();
  const out = run(rcStatusProbe(name, 1).text);
  return { status: rcStatus(parseSections(out.stdout)), ms: Date.now() - t0 };
}

test('the OpenRC status probe gives up after its limit with a reason (dash + coreutils timeout), and reads an answer', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-rc-'));
  try {
    writeFileSync(join(dir, 'rc-service'), FAKE_RC, { mode: 0o755 });
    const run = (text: string) => spawnSync('dash', ['-c', text], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    const hung = probeWith(run, 'hang');
    t.deepEqual(hung.status, { error: 'rc-service status did not answer within 1 s (it printed: waiting for the lock): another openrc-run may hold the service\'s lock (ps -o pid,args | grep openrc-run); stop it or run again once it is done' });
    t.true(hung.ms < 5000, `took ${hung.ms} ms: the child left behind kept the probe open`);
    t.is(probeWith(run, 'consul').status, 'stopped');
    // busybox before 1.30 (Alpine 3.7): `timeout -t SECS PROG`, and `timeout SECS` tries to run SECS
    const real = spawnSync('sh', ['-c', 'command -v timeout'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(dir, 'timeout'), `#!/bin/sh\n[ "$1" = -t ] || { echo "timeout: can't execute '$1'" >&2; exit 127; }\nshift; exec ${real} "$@"\n`, { mode: 0o755 });
    const old = probeWith(run, 'hang');
    t.regex(typeof old.status === 'object' ? old.status.error : old.status, /^rc-service status did not answer within 1 s/);
    t.true(old.ms < 5000, `took ${old.ms} ms`);
    t.is(probeWith(run, 'consul').status, 'stopped');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const why = chrootUnavailable();
test('the OpenRC status probe gives up after its limit under busybox ash and its timeout (Alpine 3.19 chroot)', (t) => {
  if (why) return t.pass(`skipped: ${why}`);
  const root = new AlpineChroot();
  try {
    writeFileSync(join(root.root, 'usr/local/bin/rc-service'), FAKE_RC, { mode: 0o755 });
    const hung = probeWith((text) => root.sh(text), 'hang');
    t.regex(typeof hung.status === 'object' ? hung.status.error : hung.status, /^rc-service status did not answer within 1 s \(it printed: waiting for the lock\b/);
    t.true(hung.ms < 5000, `took ${hung.ms} ms`);
    t.is(probeWith((text) => root.sh(text), 'consul').status, 'stopped');
  } finally {
    root.remove();
  }
});

test('service: bake mode in an Alpine 3.19 chroot with OpenRC (enable twice, disable twice)', (t) => {
  if (why) return t.pass(`skipped: ${why}`);
  const root = new AlpineChroot();
  try {
    const inst = root.sh('apk add --no-progress openrc busybox-openrc </dev/null');
    t.is(inst.exitCode, 0, inst.stderr);
    const on = service({ id: 'crond', name: 'crond', enabled: true, state: 'started' });
    const first = root.apply(on);
    t.is(first.plan.kind, 'change');
    t.deepEqual(first.errors, []);
    t.is(root.apply(on).plan.kind, 'noop');
    t.is(root.sh('readlink /etc/runlevels/default/crond').stdout, '/etc/init.d/crond\n');
    const off = service({ id: 'crond', name: 'crond', enabled: false, state: 'stopped' });
    t.deepEqual(root.apply(off).errors, []);
    t.is(root.apply(off).plan.kind, 'noop');
    t.is(root.sh('ls /etc/runlevels/default').stdout, '');
    t.is(root.apply(service({ id: 'x', name: 'nope', enabled: true, state: 'started' })).plan.kind, 'fail');
  } finally {
    root.remove();
  }
});

for (const [shell, argv] of [
  ['dash', ['/bin/sh', '-c']],
  ['busybox ash', ['busybox', 'sh', '-c']],
] as const) {
  const run = (text: string) => spawnSync(argv[0], [...argv.slice(1), text], { encoding: 'utf8' });

  test(`section() is one command after && and || (${shell})`, (t) => {
    const probe = sh`false && ${section('a', sh`echo one`)}
true && ${section('b', sh`echo two`)}
true || ${section('c', sh`echo three`)}`;
    t.deepEqual([...parseSections(run(probe.text).stdout)], [['b', 'two']]);
  });

  test(`withoutTerminal() keeps the exit code and the output under set -e (${shell})`, (t) => {
    const r = run(`set -e\n${withoutTerminal(sh`echo out; sh -c ${'echo err >&2; exit 7'}`).text}\necho not-reached`);
    t.is(r.status, 7);
    t.is(r.stderr, 'out\nerr\n');
    t.is(r.stdout, '');
  });
}

test('service satisfies: only a start of a stopped service carries the handlers it makes unnecessary', (t) => {
  const p = sv({ satisfies: ['restart nomad'] });
  const of = (probe: Record<string, string>, f = alpine) => planCase(service(p), { title: '', params: p, probe, facts: f, expect: { kind: 'change' } });
  const start = of({ script: 'yes', enabled: 'yes', ...stopped });
  t.deepEqual(start.kind === 'change' ? start.satisfies : 'not a change', ['restart nomad']);
  const enableOnly = of({ script: 'yes', ...started });
  t.is(enableOnly.kind === 'change' ? enableOnly.satisfies : 'not a change', undefined, 'running: the restart stays due');
  t.is(of({ script: 'yes', enabled: 'yes', ...started }).kind, 'noop');
  const systemd = of({ active: 'inactive', enabled: 'enabled' }, debian);
  t.deepEqual(systemd.kind === 'change' ? systemd.satisfies : 'not a change', ['restart nomad']);
  const s6 = planCase(service({ ...p, supervisor: 's6' }), { title: '', params: p, probe: { servicedir: 'yes', link: '/etc/s6/sv/nomad', svstat: 'down (exitcode 0) 3 seconds' }, expect: { kind: 'change' } });
  t.deepEqual(s6.kind === 'change' ? s6.satisfies : 'not a change', ['restart nomad']);
  t.throws(() => service(sv({ satisfies: 'restart nomad' as unknown as string[] })), { message: /satisfies.*must be a list of handler names/ });
});
