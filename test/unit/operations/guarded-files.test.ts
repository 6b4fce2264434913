import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { guardedFiles } from '../../../src/operations/guarded-files.ts';
import type { ApplyRuntime, ChangePlan, Operation } from '../../../src/operations/operation.ts';
import type { CommandResult } from '../../../src/core/result.ts';
import { sh, type ShellCommand } from '../../../src/shell/sh.ts';
import { apply, runProbe, ctxFor, targets, type Target } from './_run-local.ts';

/** An ApplyRuntime on a local target; the fresh login as given. */
function runtime(target: Target, freshLogin: () => Promise<void> = async () => undefined): ApplyRuntime {
  return {
    host: target.name,
    async run(cmd: ShellCommand): Promise<CommandResult> {
      return { command: cmd.display, durationMs: 0, ...target.sh(cmd.text) };
    },
    freshLogin,
    // a new login (as the fake's freshLogin decides), then the command on the same local shell
    async freshRun(cmd: ShellCommand): Promise<CommandResult> {
      await freshLogin();
      return { command: cmd.display, durationMs: 0, ...target.sh(cmd.text) };
    },
  };
}

/** Like the engine: probe, plan, run the change, then afterChange; the error text or undefined. */
async function run(target: Target, op: Operation, rt: ApplyRuntime): Promise<{ kind: string; error?: string; plan: ReturnType<Operation['plan']> }> {
  const a = apply(target, op);
  if (a.plan.kind !== 'change') return { kind: a.plan.kind, plan: a.plan };
  if (a.exitCode !== 0) return { kind: 'change', error: `change failed: ${a.stderr}`, plan: a.plan };
  try {
    await op.afterChange!(rt);
    return { kind: 'change', plan: a.plan };
  } catch (err) {
    return { kind: 'change', error: (err as Error).message, plan: a.plan };
  }
}

/** /etc/hostname-like and /etc/hosts-like files in a temp dir; `activated` counts the activations. */
function scene(target: Target, o: { seconds?: number; validate?: ShellCommand; activate?: (dir: string, name: string) => ShellCommand; detach?: boolean; checks?: (rt: ApplyRuntime) => Promise<string[]> } = {}) {
  const dir = target.tempDir();
  const name = `${dir}/hostname`;
  const hosts = `${dir}/hosts`;
  const state = `${dir}/state`;
  writeFileSync(target.outside(name), 'old\n');
  writeFileSync(target.outside(hosts), '127.0.0.1 localhost\n127.0.1.1 old\n');
  const op = guardedFiles({
    id: 'hostname',
    what: 'the hostname',
    files: [
      { path: name, content: 'new\n' },
      { path: hosts, content: (before) => `${(before ?? '').split('\n').filter((l) => l && !l.startsWith('127.0.1.1')).join('\n')}\n127.0.1.1 new\n` },
    ],
    stateDir: state,
    rollbackSeconds: o.seconds ?? 5,
    activate: o.activate ? o.activate(dir, name) : sh`echo x >> ${`${dir}/activated`}`,
    ...(o.detach ? { detachActivation: true } : {}),
    ...(o.validate ? { validate: o.validate } : {}),
    ...(o.checks ? { checks: o.checks } : {}),
  });
  const read = (p: string) => readFileSync(target.outside(p), 'utf8');
  const activations = () => (existsSync(target.outside(`${dir}/activated`)) ? read(`${dir}/activated`).split('\n').filter(Boolean).length : 0);
  return { dir, name, hosts, state, op, read, activations };
}

test('params: no files, a path twice, a short rollback are errors naming the param', (t) => {
  t.throws(() => guardedFiles({ id: 'g', what: 'x', files: [], stateDir: '/var/lib/x' }), { message: /param `files` must list at least one file/ });
  t.throws(() => guardedFiles({ id: 'g', what: 'x', files: [{ path: '/a', content: '' }, { path: '/a', content: '' }], stateDir: '/var/lib/x' }), { message: /lists a path twice/ });
  t.throws(() => guardedFiles({ id: 'g', what: 'x', files: [{ path: '/a', content: '' }], stateDir: '/var/lib/x', rollbackSeconds: 2 }), { message: /rollbackSeconds/ });
  t.throws(() => guardedFiles({ id: 'g', what: 'x', files: [{ path: 'rel', content: '' }], stateDir: '/var/lib/x' }), { message: /files\[0\]\.path/ });
  t.throws(() => guardedFiles({ id: 'g', what: 'x', files: [{ path: '/a', content: '' }], stateDir: '/var/lib/x', activate: sh`true`, detachActivation: true, freshLogin: false }), { message: /freshLogin.*detachActivation/ });
});

for (const target of targets().filter((x) => !x.name.startsWith('alpine-3.7'))) {
  test.serial(`${target.name}: two files switched together, confirmed, activated once; the second run is a noop`, async (t) => {
    const s = scene(target);
    const r = await run(target, s.op, runtime(target));
    t.is(r.error, undefined);
    const plan = r.plan as ChangePlan;
    t.regex(plan.reason, /switch the hostname \(.*hostname, .*hosts; rolled back by the host after 5s unless confirmed\)/);
    t.regex(plan.diff ?? '', /-old\n\+new/);
    t.regex(plan.diff ?? '', /-127\.0\.1\.1 old\n\+127\.0\.1\.1 new/);
    t.is(s.read(s.name), 'new\n');
    t.is(s.read(s.hosts), '127.0.0.1 localhost\n127.0.1.1 new\n');
    t.is(s.activations(), 1);
    t.false(existsSync(target.outside(`${s.state}/pending`)));
    await new Promise((res) => setTimeout(res, 6000));
    t.is(s.read(s.name), 'new\n', 'a confirmed switch stays');
    t.is(s.activations(), 1, 'the timer did not activate again');
    t.is((await run(target, s.op, runtime(target))).kind, 'noop');
    t.is(s.read(`${s.state}/original%${s.name.slice(1).replaceAll('/', '%')}`), 'old\n', 'the file from before cairn is kept');
  });

  test.serial(`${target.name}: the fresh login fails -> the host restores both files and activates again by itself`, async (t) => {
    const s = scene(target);
    const r = await run(target, s.op, runtime(target, async () => {
      throw new Error('connect ECONNREFUSED (simulated)');
    }));
    t.regex(r.error ?? '', /a fresh SSH login fails after the switch: connect ECONNREFUSED \(simulated\)\. Not confirmed: the host-side timer rolled back after 5s: .*restored the previous .*hostname .*hosts: the switch was not confirmed within 5 s \(ran the activation again after the restore\)/);
    t.is(s.read(s.name), 'old\n');
    t.is(s.read(s.hosts), '127.0.0.1 localhost\n127.0.1.1 old\n');
    t.is(s.activations(), 2, 'activated by the switch, then again by the restore');
    // the next run switches again from the restored files
    const again = await run(target, s.op, runtime(target));
    t.is(again.error, undefined);
    t.is(s.read(s.name), 'new\n');
  });

  test.serial(`${target.name}: a detached activation runs after the switch answered; fresh logins that fail while it settles are tried again; confirmed over a fresh login`, async (t) => {
    const s = scene(target, { detach: true, seconds: 12 });
    const a = apply(target, s.op);
    const switched = Date.now();
    t.is(a.exitCode, 0, a.stderr);
    t.is(s.activations(), 0, 'the switch answered before the activation ran');
    let logins = 0;
    const rt = runtime(target, async () => {
      if (++logins <= 2) throw new Error('connect ETIMEDOUT (simulated: the network is settling)');
    });
    const calls: string[] = [];
    const watched: ApplyRuntime = { ...rt, run: async (cmd) => (calls.push(cmd.display), rt.run(cmd)) };
    await t.notThrowsAsync(s.op.afterChange!(watched));
    t.deepEqual(calls, [], 'nothing went over the existing connection');
    t.true(logins >= 3);
    t.is(s.activations(), 1);
    t.false(existsSync(target.outside(`${s.state}/pending`)));
    // past the 12 s the timer would have waited: it was ended, nothing restored
    await new Promise((res) => setTimeout(res, Math.max(0, switched + 13000 - Date.now())));
    t.is(s.read(s.name), 'new\n', 'a confirmed switch stays');
    t.is(s.activations(), 1);
  });

  test.serial(`${target.name}: a detached activation that fails is not confirmed; the host restores and activates the old files again`, async (t) => {
    const activate = (dir: string, name: string) => sh`echo x >> ${`${dir}/activated`}; [ "$(cat ${name})" = old ] || { echo 'RTNETLINK answers: File exists' >&2; exit 3; }`;
    const s = scene(target, { detach: true, activate });
    const r = await run(target, s.op, runtime(target));
    t.regex(r.error ?? '', /^the activation failed \(exit 3\): RTNETLINK answers: File exists\. Not confirmed: the host-side timer rolled back after 5s: restored the previous .*hostname .*hosts: the switch was not confirmed within 5 s \(ran the activation again after the restore\)/);
    t.is(s.read(s.name), 'old\n');
    t.is(s.activations(), 2);
    t.false(existsSync(target.outside(`${s.state}/pending`)));
  });

  test.serial(`${target.name}: a failed validation restores at once, never activates, leaves no pending switch`, async (t) => {
    const s = scene(target, { validate: sh`echo 'line 3: Bad configuration option' >&2; exit 1` });
    const a = apply(target, s.op);
    t.is(a.plan.kind, 'change');
    t.not(a.exitCode, 0);
    t.regex(a.stderr, /the new files do not validate \(line 3: Bad configuration option\); restored at once: .*hostname .*hosts/);
    t.is(s.read(s.name), 'old\n');
    t.is(s.read(s.hosts), '127.0.0.1 localhost\n127.0.1.1 old\n');
    t.is(s.activations(), 1, 'only the activation of the restored files');
    t.false(existsSync(target.outside(`${s.state}/pending`)));
    t.false(existsSync(target.outside(`${s.name}.cairn-tmp`)));
  });

  test.serial(`${target.name}: the controller dies before confirming -> the next run switches again, keeping the files from before the first switch`, async (t) => {
    const s = scene(target, { checks: async () => ['sshd -T says passwordauthentication yes'] });
    // the change runs; the controller "dies" before confirming: afterChange never runs
    const a = apply(target, s.op);
    t.is(a.exitCode, 0, a.stderr);
    t.is(s.read(s.name), 'new\n');
    const next = s.op.plan(runProbe(target, s.op), ctxFor(target)) as ChangePlan;
    t.is(next.kind, 'change', 'the wanted content, but a switch is pending');
    t.regex(next.reason, /confirm the pending switch of the hostname/);
    // the next run switches again (its timer replaces the first one) and its check fails
    const started = Date.now();
    const r = await run(target, s.op, runtime(target));
    t.regex(r.error ?? '', /sshd -T says passwordauthentication yes\. Not confirmed: the host-side timer rolled back after 5s/);
    t.true(Date.now() - started >= 5000);
    t.is(s.read(s.name), 'old\n', 'restored to what the host had before the FIRST switch');
    t.is(s.read(s.hosts), '127.0.0.1 localhost\n127.0.1.1 old\n');
    t.is(s.read(`${s.state}/rollback.log`).split('\n').filter((l) => / restored the previous /.test(l)).length, 1, 'one restore: the first timer was stopped');
  });
}
