import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runningCurrent, parseProcStart, parseFileTimes, parseClock, readRunning, staleness } from '../../../src/operations/running-current.ts';
import type { OpContext, Plan } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { parseSections } from '../../../src/operations/kit.ts';
import { ctxFor, runProbe, scratch, targets, type Target } from './_run-local.ts';

// captured on this machine: `cat /proc/<pid>/stat` of `sleep 300` (field 22 = 651440 ticks)
const STAT_SLEEP = '10885 (sleep) S 10884 10879 8355 0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 651440 2990080 415 18446744073709551615 94812744327168 94812744345097 140725606569136 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0 94812744359184 94812744360448 94813015740416 140725606574813 140725606574823 140725606574823 140725606576105 0';
// GNU stat 9.1 and busybox 1.35 `stat -L -c '%Y %y %n'`; busybox 1.27 (Alpine 3.7) prints no fraction
const STAT_GNU = '1796171246 2026-12-02 00:27:26.849880708 +0000 /etc/nomad.d/nomad.hcl';
const STAT_BB127 = '1796171045 2026-12-02 00:24:05.000000000 +0000 /tmp/a';
// /proc/uptime first field, getconf CLK_TCK, `stat -c '%Y %y'` of a new temp file
const CLOCK = '6600.00\n100\n1796171247 2026-12-02 00:27:27.177734165 +0000';

const systemdFacts = stubFacts[1] as Facts;
const ctx: OpContext = { host: 'h', facts: systemdFacts, bake: false };

/** Probe output as the op's probe prints it (systemd: `systemctl is-active` section). */
function out(sections: Record<string, string>): string {
  return Object.entries(sections)
    .map(([k, v]) => `\n@@cairn:${k}\n${v}\n`)
    .join('');
}
const probe = (sections: Record<string, string>) => ({ command: 'probe', durationMs: 0, exitCode: 0, stdout: out(sections), stderr: '' });

// started at: now - uptime + ticks/hz = 1796171247.1777 - 6600.00 + 6514.40 = 1796171161.58 (85.6 s ago)
const base = { active: 'active', pid: '10885', 'pid-from': 'systemd MainPID', stat: STAT_SLEEP, exe: '/usr/bin/sleep', clock: CLOCK };
const startedAt = 1796171247.177734165 - 6600 + 6514.4;

test('parseProcStart: field 22 after the last parenthesis (a command name may hold spaces and parentheses)', (t) => {
  t.is(parseProcStart(STAT_SLEEP), 651440);
  t.is(parseProcStart(STAT_SLEEP.replace('(sleep)', '(a) b (c))')), 651440);
  t.is(parseProcStart(''), undefined);
  t.is(parseProcStart('12 (x) S 1'), undefined);
});

test('parseFileTimes / parseClock: GNU and busybox stat lines, fraction or none', (t) => {
  const [gnu, bb] = parseFileTimes(`${STAT_GNU}\n${STAT_BB127}\ngarbage`);
  t.is(gnu!.path, '/etc/nomad.d/nomad.hcl');
  t.true(Math.abs(gnu!.mtime.seconds - 1796171246.849880708) < 1e-6);
  t.true(gnu!.mtime.precise);
  t.deepEqual(bb, { path: '/tmp/a', mtime: { seconds: 1796171045, precise: false } });
  t.deepEqual(parseFileTimes(`${STAT_GNU}\n${STAT_GNU}`).length, 1);
  const c = parseClock(CLOCK)!;
  t.is(c.uptime, 6600);
  t.is(c.hz, 100);
  t.true(c.now.precise);
  t.deepEqual(parseClock('6506.88\n100\n1796171247')!.now, { seconds: 1796171247, precise: false });
  t.is(parseClock(''), undefined);
});

test('readRunning: not running -> nothing to do; no pid -> a warning; pid gone -> nothing', (t) => {
  t.true('ok' in staleness('nomad', readRunning('systemd', parseSections(out({ active: 'inactive' })))));
  const noPid = staleness('nomad', readRunning('systemd', parseSections(out({ active: 'active', 'pid-tried': 'systemctl show -p MainPID', clock: CLOCK }))));
  t.true('warn' in noPid && /main process was not found \(systemctl show -p MainPID\)/.test(noPid.warn));
  t.true('ok' in staleness('nomad', readRunning('systemd', parseSections(out({ ...base, stat: '' })))));
});

test('staleness: a file changed after the process started -> restart naming the file and both times; older files -> ok', (t) => {
  const old = `${Math.floor(startedAt - 100)} 2026-12-02 00:00:00.500000000 +0000 /etc/nomad.d/nomad.hcl`;
  const ok = staleness('nomad', readRunning('systemd', parseSections(out({ ...base, files: old }))));
  t.true('ok' in ok && /started after its files last changed \(\/etc\/nomad\.d\/nomad\.hcl/.test(ok.ok), JSON.stringify(ok));
  const newer = `${Math.floor(startedAt + 60)} 2026-12-02 00:00:00.500000000 +0000 /etc/nomad.d/nomad.hcl`;
  const r = staleness('nomad', readRunning('systemd', parseSections(out({ ...base, files: `${old}\n${newer.replace('nomad.hcl', 'extra.hcl')}` }))));
  t.true('restart' in r);
  if ('restart' in r) {
    t.regex(r.restart, /^nomad \(pid 10885, started 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\) started before \/etc\/nomad\.d\/extra\.hcl changed \(20\d\d-.*Z\)$/);
  }
  // within the clocks' precision: not told apart, no restart (a restart right after a write must not loop)
  const justAfter = `${Math.floor(startedAt)} 2026-12-02 00:00:00.${String(Math.min(999_999_999, Math.round((startedAt % 1) * 1e9) + 50_000_000)).padStart(9, '0')} +0000 /f`;
  t.true('ok' in staleness('nomad', readRunning('systemd', parseSections(out({ ...base, files: justAfter })))));
});

test('staleness: a deleted binary restarts; a file from the future warns (a restart would not help)', (t) => {
  const del = staleness('consul', readRunning('systemd', parseSections(out({ ...base, exe: '/usr/local/bin/consul (deleted)', files: '' }))));
  t.true('restart' in del && /executes \/usr\/local\/bin\/consul, deleted or replaced since it started/.test(del.restart));
  const future = `${1796171247 + 3600} 2026-12-02 01:27:27.000000001 +0000 /etc/consul.d/consul.hcl`;
  const w = staleness('consul', readRunning('systemd', parseSections(out({ ...base, files: future }))));
  t.true('warn' in w && /clock was set back/.test(w.warn));
});

test('the op: handler mode notifies the restart handler; direct mode restarts through the supervisor; check counts it as drift', (t) => {
  const newer = `${Math.floor(startedAt + 60)} 2026-12-02 00:00:00.5 +0000 /etc/nomad.d/nomad.hcl`;
  const h = runningCurrent({ id: 'rc', name: 'nomad', supervisor: 'systemd', files: ['/usr/local/bin/nomad', '/etc/nomad.d/'], restart: 'handler', notify: ['restart nomad'] });
  t.true(h.barrier);
  t.deepEqual(h.notify, ['restart nomad']);
  t.deepEqual(h.paths, ['/usr/local/bin/nomad', '/etc/nomad.d']);
  const p = h.plan(probe({ ...base, files: newer }), ctx);
  t.is(p.kind, 'change');
  t.regex((p as Extract<Plan, { kind: 'change' }>).reason, /^restart nomad: nomad \(pid 10885, .*\) started before \/etc\/nomad\.d\/nomad\.hcl changed/);
  const d = runningCurrent({ id: 'rc', name: 'unbound', supervisor: 'systemd', files: ['/etc/unbound/unbound.conf'], restart: 'direct' });
  t.is(d.notify, undefined);
  const dp = d.plan(probe({ ...base, files: newer }), ctx) as Extract<Plan, { kind: 'change' }>;
  t.regex(dp.commands.map((c) => ('display' in c ? c.display : '')).join('\n'), /systemctl restart unbound/);
  t.is(d.plan(probe({ active: 'failed' }), ctx).kind, 'noop');
  t.is(h.plan(undefined, { ...ctx, bake: true }).kind, 'noop');
  t.is(h.probe({ ...ctx, bake: true }), undefined);
  t.throws(() => runningCurrent({ id: 'x', name: 'n', files: ['rel'], restart: 'direct' }), { message: /files/ });
  t.throws(() => runningCurrent({ id: 'x', name: 'n', files: ['/a'], restart: 'handler' }), { message: /notify/ });
});

test('planFrom: a file an earlier step of this run writes makes the running process old (check reports the restart)', (t) => {
  const h = runningCurrent({ id: 'rc', name: 'nomad', supervisor: 'systemd', files: ['/etc/nomad.d/nomad.hcl'], restart: 'handler', notify: ['restart nomad'] });
  const old = `${Math.floor(startedAt - 100)} 2026-12-02 00:00:00.5 +0000 /etc/nomad.d/nomad.hcl`;
  const eff = [{ path: '/etc/nomad.d/nomad.hcl', kind: 'state' as const, state: { type: 'file' as const } }];
  const p = h.planFrom!(probe({ ...base, files: old }), eff, ctx);
  t.is(p.kind, 'change');
  t.regex((p as Extract<Plan, { kind: 'change' }>).reason, /runs \/etc\/nomad\.d\/nomad\.hcl as it was before an earlier step of this run writes it/);
  t.is(h.planFrom!(probe({ active: 'inactive' }), eff, ctx).kind, 'noop', 'not running: it starts with the new file');
  t.is(h.planFrom!(probe({ ...base, files: old }), [{ path: '/etc/nomad.d/nomad.hcl', kind: 'attributes', attributes: { mode: 0o640 } }], ctx).kind, 'noop', 'a chmod leaves the mtime');
});

// ---- real shells: a process whose pid file we control, files older and newer than it

/** The target with fake supervisor commands on PATH (scripts by name). */
function withFakes(target: Target, scripts: Record<string, string>): Target {
  const bin = scratch('cairn-fake-sup-');
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return { ...target, sh: (script) => target.sh(`PATH=${bin}:$PATH\n${script}`) };
}
/** `rc-service NAME status` of a started service (OpenRC status exit 0). */
const withFakeOpenrc = (target: Target) => withFakes(target, { 'rc-service': 'echo " * status: started"; exit 0' });

async function withProcess<T>(argv: string[], run: (p: ChildProcess) => Promise<T>): Promise<T> {
  const p = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  try {
    await sleep(400);
    return await run(p);
  } finally {
    p.kill('SIGKILL');
  }
}

for (const target of targets().filter((x) => x.name === 'dash' || x.name === 'busybox')) {
  test(`real shell (${target.name}): a config touched after the process started -> restart; older -> noop`, async (t) => {
    const tt = withFakeOpenrc(target);
    const dir = tt.tempDir();
    const conf = join(dir, 'demo.conf');
    const confDir = join(dir, 'demo.d');
    writeFileSync(conf, 'a=1\n');
    tt.sh(`mkdir -p ${confDir} && echo x > ${confDir}/x.conf`);
    const past = Date.now() / 1000 - 3600;
    for (const f of [conf, confDir, join(confDir, 'x.conf')]) utimesSync(f, past, past);
    await withProcess(['sleep', '300'], async (p) => {
      writeFileSync(join(dir, 'demo.pid'), `${p.pid}\n`);
      const op = runningCurrent({ id: 'rc', name: 'demo', supervisor: 'openrc', files: ['/bin/sh', conf, confDir, join(dir, 'missing')], restart: 'handler', notify: ['restart demo'], pidfile: join(dir, 'demo.pid') });
      const c = { ...ctxFor(tt), facts: { ...tt.facts, supervisors: { openrc: true, s6: false, systemd: false } } } as OpContext;
      const before = op.plan(runProbe(tt, op, c), c);
      t.is(before.kind, 'noop', JSON.stringify(before));
      t.regex((before as { reason: string }).reason, new RegExp(`^demo \\(pid ${p.pid}, started .*\\) started after its files last changed`));
      // edited in place behind cairn's back, inside the config dir
      writeFileSync(join(confDir, 'x.conf'), 'y\n');
      const after = op.plan(runProbe(tt, op, c), c);
      t.is(after.kind, 'change', JSON.stringify(after));
      t.regex((after as { reason: string }).reason, new RegExp(`^restart demo: demo \\(pid ${p.pid}, started .*\\) started before ${confDir}/x\\.conf changed \\(.*\\)$`));
    });
  });

  test(`real shell (${target.name}): a pid file naming supervise-daemon leads to its child`, async (t) => {
    const tt = withFakeOpenrc(target);
    const dir = tt.tempDir();
    const sup = join(dir, 'supervise-daemon');
    writeFileSync(sup, '#!/bin/sh\nsleep 300 &\nwait\n');
    chmodSync(sup, 0o755);
    await withProcess([sup], async (p) => {
      writeFileSync(join(dir, 'sup.pid'), `${p.pid}\n`);
      const op = runningCurrent({ id: 'rc', name: 'demo', supervisor: 'openrc', files: [sup], restart: 'direct', pidfile: join(dir, 'sup.pid') });
      const c = { ...ctxFor(tt), facts: { ...tt.facts, supervisors: { openrc: true, s6: false, systemd: false } } } as OpContext;
      const s = parseSections(runProbe(tt, op, c)!.stdout);
      t.regex(s.get('pid-from') ?? '', new RegExp(`^child of supervise-daemon ${p.pid} `));
      t.regex(s.get('stat') ?? '', /^\d+ \(sleep\) S /);
      const child = Number(s.get('pid'));
      try {
        t.is(op.plan(runProbe(tt, op, c), c).kind, 'noop');
      } finally {
        process.kill(child, 'SIGKILL');
      }
    });
  });
}

for (const target of targets().filter((x) => x.name === 'dash' || x.name === 'busybox')) {
  // s6-svstat: s6 >= 2.10 prints `pid N pgid N`, older ones `pid N`; systemctl show prints MainPID=N
  for (const [label, sup, fake] of [
    ['s6 (pid pgid)', 's6', (pid: number) => ({ 's6-svstat': `echo "up (pid ${pid} pgid ${pid}) 12 seconds, normally up"` })],
    ['s6 (old)', 's6', (pid: number) => ({ 's6-svstat': `echo "up (pid ${pid}) 12 seconds"` })],
    ['systemd', 'systemd', (pid: number) => ({ systemctl: `case "$1" in is-active) echo active ;; show) printf 'MainPID=%s\\n' ${pid} ;; esac` })],
  ] as const) {
    test(`real shell (${target.name}): the main pid from ${label}`, async (t) => {
      await withProcess(['sleep', '300'], async (p) => {
        const tt = withFakes(target, fake(p.pid!));
        const op = runningCurrent({ id: 'rc', name: 'demo', supervisor: sup, files: ['/bin/sh'], restart: 'direct' });
        const c = { ...ctxFor(tt), facts: { ...tt.facts, supervisors: { openrc: false, s6: true, systemd: true } } } as OpContext;
        const s = parseSections(runProbe(tt, op, c)!.stdout);
        t.is(Number(s.get('pid')), p.pid as number);
        t.is(op.plan(runProbe(tt, op, c), c).kind, 'noop');
      });
    });
  }
}
