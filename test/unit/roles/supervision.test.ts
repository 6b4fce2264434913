import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describeProblems,
  renderOpenrc,
  renderS6,
  renderS6Openrc,
  renderSystemd,
  resolveDescription,
  resolveSupervision,
  supervisedService,
  type ServiceDescription,
} from '../../../src/services/index.ts';
import { FACTS, ctxFor, inventory, role, validationCtx, wantedContent, step } from './_nomad-consul.ts';

const nomad: ServiceDescription = {
  name: 'nomad',
  command: '/usr/local/bin/nomad',
  args: ['agent', '-config=/etc/nomad.d'],
  killSignal: 'SIGINT',
  killMode: 'process',
  oomScoreAdjust: -1000,
  unlimitedProcesses: true,
  after: ['consul'],
  env: { GOMAXPROCS: '2', WEIRD: `it's "$x"` },
};
const consul: ServiceDescription = { name: 'consul', command: '/usr/local/bin/consul', args: ['agent', '-config-dir=/etc/consul.d'], user: 'consul', group: 'consul' };

const file = (files: { path: string; content: string }[], path: string) => {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`no ${path} in ${files.map((x) => x.path).join(', ')}`);
  return f.content;
};

/** What `sh` makes of an OpenRC conf.d: source it, eval command + command_args like openrc-run does. */
function evalConfd(confd: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'confd-'));
  writeFileSync(join(dir, 'c'), confd);
  const r = spawnSync('sh', ['-c', `. "$1/c"; eval "set -- $command $command_args"; for a; do printf '%s\\n' "$a"; done`, 'sh', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').slice(0, -1);
}

const shOk = (script: string) => spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' }).status === 0;

test('OpenRC: supervise-daemon, conf.d with command, logs, ulimit, respawn, retry with the kill signal', (t) => {
  const files = renderOpenrc(resolveDescription(nomad), { outputLog: true });
  const initd = file(files, '/etc/init.d/nomad');
  const confd = file(files, '/etc/conf.d/nomad');
  t.regex(initd, /^#!\/sbin\/openrc-run\n/);
  t.regex(initd, /supervisor=supervise-daemon/);
  t.regex(initd, /need net\n\tafter firewall consul\n/);
  t.true(shOk(initd.replace(/^#!.*\n/, '')));
  t.regex(confd, /^command="\/usr\/local\/bin\/nomad"$/m);
  t.regex(confd, /^output_log="\/var\/log\/nomad\/output.log"$/m);
  t.regex(confd, /^error_log="\/var\/log\/nomad\/output.log"$/m);
  t.regex(confd, /^rc_ulimit="-n 65536"$/m);
  t.regex(confd, /^respawn_delay=2$/m);
  t.regex(confd, /^retry="SIGINT\/30\/SIGKILL\/5"$/m);
  t.notRegex(confd, /command_user/);
  t.deepEqual(evalConfd(confd), ['/usr/local/bin/nomad', 'agent', '-config=/etc/nomad.d']);
  // env values survive quoting
  const r = spawnSync('sh', ['-c', `${confd}\nprintf '%s' "$WEIRD"`], { encoding: 'utf8' });
  t.is(r.stdout, `it's "$x"`);
});

test('OpenRC < 0.25 (no output_log): the command redirects its own output, args intact', (t) => {
  const files = renderOpenrc(resolveDescription(consul), { outputLog: false });
  const confd = file(files, '/etc/conf.d/consul');
  t.notRegex(confd, /^(output_log|error_log|retry)=/m);
  t.regex(confd, /^command=\/bin\/sh$/m);
  t.regex(confd, /^command_user="consul:consul"$/m);
  const argv = evalConfd(confd);
  t.deepEqual(argv.slice(0, 2), ['/bin/sh', '-c']);
  t.is(argv[2], `exec >>/var/log/consul/output.log 2>&1 </dev/null; exec /usr/local/bin/consul agent -config-dir=/etc/consul.d`);
  t.regex(file(files, '/etc/init.d/consul'), /checkpath -d -m 0750 -o consul:consul \/var\/log\/consul/);
});

test('s6: run never backgrounds, keeps the lock fd, drops privileges; finish stops restart loops; s6-log; down-signal', (t) => {
  const files = renderS6(resolveDescription({ ...consul, killSignal: 'SIGINT' }), { serviceDir: '/etc/s6/sv/consul', s6LockFd: false });
  const run = file(files, '/etc/s6/sv/consul/run');
  t.regex(run, /^#!\/bin\/sh\n/);
  t.regex(run, /^exec 2>&1 <\/dev\/null$/m);
  t.regex(run, /^ulimit -n 65536$/m);
  t.regex(run, /^exec s6-setlock \/run\/cairn-s6-consul.lock s6-setuidgid consul \/usr\/local\/bin\/consul agent -config-dir=\/etc\/consul.d$/m);
  t.notRegex(run.split('\n').filter((l) => !l.startsWith('#')).join('\n'), /&\s*$|nohup|daemon|3>&-|exec 3/m);
  t.true(shOk(run));
  t.falsy(files.find((f) => f.path.endsWith('/lock-fd')));
  const withFd = renderS6(resolveDescription(consul), { serviceDir: '/etc/s6/sv/consul', s6LockFd: true });
  t.is(file(withFd, '/etc/s6/sv/consul/lock-fd'), '3\n');
  t.regex(file(withFd, '/etc/s6/sv/consul/run'), /^exec s6-setuidgid consul /m);
  t.is(file(files, '/etc/s6/sv/consul/down-signal'), 'SIGINT\n');
  t.is(file(files, '/etc/s6/sv/consul/log/run'), '#!/bin/sh\n# Managed by cairn: changes here are overwritten on the next apply.\nPATH="$PATH:/command:/usr/bin:/bin"\nexec s6-log -b n10 s1000000 T /var/log/consul\n');
  const finish = file(files, '/etc/s6/sv/consul/finish');
  t.true(shOk(finish));
  t.regex(finish, /exit 125/);
});

test('s6 finish: 127 and a burst of crashes are permanent (125); kill -9 (256) and clean exits restart', (t) => {
  const finish = file(renderS6(resolveDescription({ ...consul, name: `cairn-test-${process.pid}`, restartDelay: 1 }), { serviceDir: '/x', s6LockFd: false }), '/x/finish');
  const dir = mkdtempSync(join(tmpdir(), 'finish-'));
  writeFileSync(join(dir, 'finish'), finish);
  const run = (code: string) => spawnSync('sh', [join(dir, 'finish'), code, '9'], { encoding: 'utf8' }).status;
  t.is(run('127'), 125);
  t.is(run('256'), 0);
  t.is(run('0'), 0);
  const codes = [1, 2, 3, 4, 5].map(() => run('1'));
  t.deepEqual(codes, [0, 0, 0, 0, 125]);
  t.is(run('1'), 0, 'the counter starts again after a permanent failure');
  spawnSync('rm', ['-f', `/run/cairn-s6-cairn-test-${process.pid}.deaths`]);
});

test('s6 under OpenRC: init script with supervisor=s6 pointing at the service directory', (t) => {
  const files = renderS6Openrc(resolveDescription(nomad), { serviceDir: '/etc/s6/sv/nomad', s6LockFd: false });
  const initd = file(files, '/etc/init.d/nomad');
  t.regex(initd, /supervisor=s6\ns6_service_path="\/etc\/s6\/sv\/nomad"/);
  t.regex(initd, /need net s6-svscan/);
  t.truthy(files.find((f) => f.path === '/etc/s6/sv/nomad/run'));
});

test('systemd: HashiCorp-shaped unit; Type=simple unless notify', (t) => {
  const unit = file(renderSystemd(resolveDescription(nomad)), '/etc/systemd/system/nomad.service');
  for (const l of ['Type=simple', 'KillMode=process', 'KillSignal=SIGINT', 'Restart=on-failure', 'RestartSec=2', 'LimitNOFILE=65536', 'LimitNPROC=infinity', 'TasksMax=infinity', 'OOMScoreAdjust=-1000', 'ExecStart=/usr/local/bin/nomad agent -config=/etc/nomad.d', 'WantedBy=multi-user.target', 'After=network-online.target consul.service']) {
    t.true(unit.split('\n').includes(l), l);
  }
  t.true(unit.includes(`Environment="WEIRD=it's \\"$x\\""`));
  const c = file(renderSystemd(resolveDescription({ ...consul, notify: true })), '/etc/systemd/system/consul.service');
  t.regex(c, /^Type=notify$/m);
  t.regex(c, /^User=consul$/m);
  t.regex(c, /^Group=consul$/m);
  t.regex(c, /^KillSignal=SIGTERM$/m);
  t.notRegex(c, /OOMScoreAdjust|TasksMax/);
});

test('description problems are all reported', (t) => {
  const ps = describeProblems({ name: 'bad name', command: 'nomad', user: 'Root', nofile: 10, killSignal: 'SIGFOO' as 'SIGINT', env: { '1x': 'a' } });
  t.is(ps.length, 6);
  t.throws(() => resolveDescription({ name: 'x', command: 'rel' }), { message: /command: must be an absolute path/ });
});

test('supervisor choice: facts, cairn_supervisor, and clear refusals', (t) => {
  const pick = (facts: typeof FACTS.alpine, v: Record<string, unknown> = {}) => {
    const s = resolveSupervision('nomad', v, facts);
    return 'error' in s ? s.error : s.kind;
  };
  t.is(pick(FACTS.alpine), 'openrc');
  t.is(pick(FACTS.debian), 'systemd');
  t.is(pick(FACTS.alpineS6, { cairn_supervisor: 's6' }), 's6-openrc');
  t.is(pick(FACTS.s6init), 's6');
  t.regex(pick(FACTS.debian, { cairn_supervisor: 's6' }), /s6 .*not installed/);
  t.regex(pick({ ...FACTS.alpine, init: 'unknown' }), /init system of this host is unknown/);
  const old = resolveSupervision('nomad', {}, FACTS.alpine37arm);
  t.false('error' in old ? true : old.outputLog);
  const forced = resolveSupervision('nomad', { openrc_output_log: true }, FACTS.alpine37arm);
  t.true('error' in forced ? false : forced.outputLog);
});

const SUP_INV = `
hosts:
  a: { address: 127.0.0.1 }
groups:
  g:
    hosts: [a]
    roles: [supervision]
    vars:
      supervision_services:
        - { name: hello, command: /usr/local/bin/hello, args: [--port, '8080'], user: nobody, group: nogroup }
`;

test('supervision role: one service per description; files notify restart; systemd units also daemon-reload', async (t) => {
  const r = await role('supervision');
  const inv = inventory(SUP_INV);
  t.deepEqual(r.def.validate!(validationCtx(r, inv)), []);
  const ctx = ctxFor(r, inv, 'a', FACTS.debian);
  const ops = r.def.steps(ctx);
  t.deepEqual(ops.map((o) => o.id), ['hello-log-dir', 'hello-unit', 'hello', 'hello-running-current']);
  t.deepEqual([...step(ops, 'hello-unit').notify!], ['reload units for hello', 'restart hello']);
  t.regex(wantedContent(step(ops, 'hello-unit'), FACTS.debian), /ExecStart=\/usr\/local\/bin\/hello --port 8080/);
  const h = r.def.handlers!(ctx);
  t.deepEqual(Object.keys(h), ['reload units for hello', 'restart hello']);
  t.deepEqual(h['reload units for hello']!.map((o) => o.kind), ['daemonReload']);
  const s6 = r.def.steps(ctxFor(r, inv, 'a', FACTS.alpineS6, { extra: { cairn_supervisor: 's6' } }));
  t.deepEqual(s6.map((o) => o.id), ['hello-log-dir', 'hello-s6-dir', 'hello-s6-log-dir', 'hello-handover', 'hello-s6-run', 'hello-s6-finish', 'hello-s6-log-run', 'hello-s6-down-signal', 'hello-s6-timeout-kill', 'hello-initd', 'hello-s6-no-lock-fd', 'hello', 'hello-running-current']);
});

test('supervision role: bad descriptions are refused before connecting', async (t) => {
  const r = await role('supervision');
  const inv = inventory(SUP_INV.replace('command: /usr/local/bin/hello', 'command: hello, colour: red') + `  b: { hosts: [a], vars: { cairn_supervisor: runit } }\n`);
  const ps = r.def.validate!(validationCtx(r, inv));
  const text = ps.map((p) => p.message).join('\n');
  t.regex(text, /unknown field 'colour'/);
  t.regex(text, /command: must be an absolute path/);
  t.regex(text, /cairn_supervisor must be one of/);
  t.true(ps.every((p) => p.location.file.endsWith('inventory.yml') && typeof p.location.line === 'number'));
});

test('a supervisor that cannot be used becomes a failing step', async (t) => {
  const r = await role('supervision');
  const ops = r.def.steps(ctxFor(r, inventory(SUP_INV), 'a', FACTS.debian, { extra: { cairn_supervisor: 's6' } }));
  t.is(ops.length, 1);
  const plan = ops[0]!.plan(undefined, { host: 'a', facts: FACTS.debian, bake: false });
  t.is(plan.kind, 'fail');
  t.regex(plan.kind === 'fail' ? plan.message : '', /s6 \(s6-svscan\) is not installed/);
});

test('supervisedService for consul: log dir owned by the user; service op last', async (t) => {
  const r = await role('supervision');
  const ctx = ctxFor(r, inventory(SUP_INV), 'a', FACTS.alpine);
  const s = supervisedService(ctx, consul);
  t.deepEqual(s.steps.map((o) => `${o.kind}:${o.id}`), ['directory:service-log-dir', 'service-handover:service-handover', 'file:service-initd', 'file:service-confd', 'service:service', 'runningCurrent:service-running-current']);
  t.is(s.restartHandler, 'restart consul');
  t.deepEqual(s.handlers['reload units for consul'], []);
});
