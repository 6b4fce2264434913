import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nameserverProblems, renderResolvConf, resolvConf } from '../../../src/operations/resolv-conf.ts';
import type { ApplyRuntime, ChangePlan, OpContext, Plan } from '../../../src/operations/operation.ts';
import { strict } from '../../../src/engine/batch.ts';
import type { CommandResult } from '../../../src/core/result.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { ShellCommand } from '../../../src/shell/sh.ts';
import { fakePathProbe, runProbe, targets, type Target } from './_run-local.ts';

const debian: OpContext = { host: 'h', facts: stubFacts[1] as Facts, bake: false };
const alpine: OpContext = { host: 'h', facts: stubFacts[0] as Facts, bake: false };

test('renderResolvConf: nameservers in order, search, options', (t) => {
  t.is(
    renderResolvConf({ nameservers: ['127.0.0.1', '::1'], search: ['lan'], options: ['timeout:2'] }),
    '# managed by cairn (dns role): do not edit, changes are overwritten\nnameserver 127.0.0.1\nnameserver ::1\nsearch lan\noptions timeout:2\n',
  );
});

test('nameserverProblems: 4 nameservers is an error naming the ones that would never be asked', (t) => {
  t.deepEqual(nameserverProblems(['127.0.0.1']), []);
  const p = nameserverProblems(['127.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
  t.is(p.length, 1);
  t.regex(p[0]!, /has 4 nameservers; musl, glibc and Go read at most 3 and silently ignore the rest \(10\.0\.0\.3 would never be asked\)/);
  t.regex(nameserverProblems(['localhost'])[0]!, /not IP addresses: "localhost"/);
  t.regex(nameserverProblems([])[0]!, /non-empty/);
  t.regex(nameserverProblems(['1.1.1.1', '1.1.1.1'])[0]!, /twice/);
});

test('params: more than 3 nameservers, bad options or a short rollback throw', (t) => {
  t.throws(() => resolvConf({ id: 'r', nameservers: ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'] }), { message: /param `nameservers` has 4 nameservers/ });
  t.throws(() => resolvConf({ id: 'r', nameservers: ['127.0.0.1'], options: ['rotate; rm -rf /'] }), { message: /param `options`/ });
  t.throws(() => resolvConf({ id: 'r', nameservers: ['127.0.0.1'], rollbackSeconds: 1 }), { message: /rollbackSeconds/ });
});

test('plan: the wanted content and no pending switch -> noop', (t) => {
  const op = resolvConf({ id: 'r', nameservers: ['127.0.0.1'] });
  const content = renderResolvConf({ nameservers: ['127.0.0.1'] });
  const sha = createHashHex(content);
  t.deepEqual(op.plan(fakePathProbe({ type: 'file', stat: `644 0 0 root root ${content.length}`, sha256: sha, content }), debian), {
    kind: 'noop',
    reason: '/etc/resolv.conf lists 127.0.0.1',
  });
});

test('plan: another file -> one switch command with diff; musl with 2 nameservers warns', (t) => {
  const op = resolvConf({ id: 'r', nameservers: ['127.0.0.1', '10.0.0.1'], rollbackSeconds: 20 });
  const before = 'nameserver 10.231.1.1\n';
  const p = op.plan(fakePathProbe({ type: 'file', stat: `644 0 0 root root ${before.length}`, sha256: 'x'.repeat(64), content: before }), alpine) as ChangePlan;
  t.is(p.kind, 'change');
  t.is(p.reason, 'switch /etc/resolv.conf to 127.0.0.1, 10.0.0.1 (file before; rolled back after 20s unless confirmed)');
  t.regex(p.diff ?? '', /-nameserver 10\.231\.1\.1\n\+# managed by cairn/);
  t.is(p.commands.length, 1);
  t.regex(p.commands[0]!.toString(), /setsid sh -c/);
  t.regex(p.commands[0]!.toString(), /<\/dev\/null >\/dev\/null 2>&1 &/, 'the timer holds no stdio of the SSH channel');
  t.regex((p.warnings ?? []).join(), /musl asks all 2 nameservers at once/);
});

test('plan: a systemd-resolved symlink is replaced (and kept to restore)', (t) => {
  const op = resolvConf({ id: 'r', nameservers: ['127.0.0.1'] });
  const p = op.plan(fakePathProbe({ type: 'link', resolved: 'file', target: '../run/systemd/resolve/stub-resolv.conf' }), debian) as ChangePlan;
  t.is(p.kind, 'change');
  t.regex(p.reason, /symlink to \.\.\/run\/systemd\/resolve\/stub-resolv\.conf before/);
});

function createHashHex(s: string): string {
  return (spawnSync('sha256sum', { input: s, encoding: 'utf8' }).stdout ?? '').slice(0, 64);
}

// ----------------------------------------------------------------- for real, on local shells

/** An ApplyRuntime that runs on a local target; freshLogin as given. */
function runtime(target: Target, freshLogin: () => Promise<void> = async () => undefined): ApplyRuntime & { ran: string[] } {
  const ran: string[] = [];
  return {
    host: target.name,
    ran,
    async run(cmd: ShellCommand): Promise<CommandResult> {
      ran.push(cmd.display);
      const r = target.sh(cmd.text);
      return { command: cmd.display, durationMs: 0, ...r };
    },
    freshLogin,
    // a new login (as the fake's freshLogin decides), then the command on the same local shell
    async freshRun(cmd: ShellCommand): Promise<CommandResult> {
      await freshLogin();
      return { command: cmd.display, durationMs: 0, ...target.sh(cmd.text) };
    },
  };
}

/** Probe, plan, run the change like the engine (strict), then afterChange. */
async function switchOn(target: Target, op: ReturnType<typeof resolvConf>, rt: ApplyRuntime): Promise<{ plan: Plan; error?: string }> {
  const ctx = { host: target.name, facts: target.facts, bake: false };
  const plan = op.plan(runProbe(target, op, ctx), ctx);
  if (plan.kind !== 'change') return { plan };
  const res = target.sh(strict(plan.commands as ShellCommand[]).text);
  if (res.exitCode !== 0) return { plan, error: `change failed: ${res.stderr}` };
  try {
    await op.afterChange!(rt);
    return { plan };
  } catch (err) {
    return { plan, error: (err as Error).message };
  }
}

let pid = '';
/** Is the process running (a zombie waiting for its new parent to reap it counts as gone)? */
async function alive(p: string): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    let state = '';
    try {
      state = readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '')[0] ?? '';
    } catch {
      return false;
    }
    if (state === 'Z') return false;
    await new Promise((res) => setTimeout(res, 100));
  }
  return true;
}

for (const target of targets().filter((x) => !x.name.startsWith('alpine-3.7'))) {
  test.serial(`${target.name}: switch, checks pass -> confirmed, timer gone, second run noop`, async (t) => {
    const dir = target.tempDir();
    const path = `${dir}/resolv.conf`;
    const state = `${dir}/state`;
    writeFileSync(target.outside(path), 'nameserver 10.231.1.1\n');
    const getent = target.sh('command -v getent').exitCode === 0;
    const op = resolvConf({ id: 'r', path, stateDir: state, nameservers: ['127.0.0.1'], rollbackSeconds: 5, ...(getent ? { verify: { name: 'localhost' } } : {}) });
    const rt = runtime(target);
    const pendingBefore = () => readFileSync(target.outside(`${state}/pending`), 'utf8').trim().split(' ');
    const r = await switchOn(target, op, {
      ...rt,
      run: async (cmd) => {
        // remember the timer's pid before the confirm removes the pending file
        if (existsSync(target.outside(`${state}/pending`))) pid = pendingBefore()[1] ?? '';
        return rt.run(cmd);
      },
    });
    t.is(r.error, undefined);
    t.is(readFileSync(target.outside(path), 'utf8'), renderResolvConf({ nameservers: ['127.0.0.1'] }));
    t.is(readdirSync(target.outside(state)).filter((f) => f.startsWith('confirm-')).length, 1, 'the confirm marker');
    t.false(existsSync(target.outside(`${state}/pending`)));
    t.is(readFileSync(target.outside(`${state}/before-0`), 'utf8'), 'nameserver 10.231.1.1\n');
    if (getent) t.regex(rt.ran.join('\n'), /getent hosts localhost/);
    if (target.name === 'dash' || target.name === 'busybox') t.false(await alive(pid), 'the timer was killed');
    await new Promise((res) => setTimeout(res, 6000));
    t.is(readFileSync(target.outside(path), 'utf8'), renderResolvConf({ nameservers: ['127.0.0.1'] }), 'a confirmed switch stays');
    const second = await switchOn(target, op, rt);
    t.is(second.plan.kind, 'noop');
  });

  test.serial(`${target.name}: a failed check -> not confirmed, the host-side timer restores the old file by itself`, async (t) => {
    const dir = target.tempDir();
    const path = `${dir}/resolv.conf`;
    const state = `${dir}/state`;
    writeFileSync(target.outside(path), 'nameserver 10.231.1.1\n');
    const op = resolvConf({ id: 'r', path, stateDir: state, nameservers: ['127.0.0.9'], rollbackSeconds: 5 });
    const started = Date.now();
    const r = await switchOn(
      target,
      op,
      runtime(target, async () => {
        throw new Error('ssh: connect refused (simulated)');
      }),
    );
    t.regex(r.error ?? '', /a fresh SSH login fails after the switch: ssh: connect refused \(simulated\)\. Not confirmed: the host-side timer rolled back after 5s: .*restored the previous/);
    t.true(Date.now() - started >= 5000, 'the controller waited for the timer');
    t.is(readFileSync(target.outside(path), 'utf8'), 'nameserver 10.231.1.1\n');
    t.regex(readFileSync(target.outside(`${state}/rollback.log`), 'utf8'), /restored the previous .*resolv\.conf: the switch was not confirmed within 5 s/);
    t.false(existsSync(target.outside(`${state}/pending`)));
  });

  test.serial(`${target.name}: a symlinked resolv.conf comes back as the same symlink`, async (t) => {
    const dir = target.tempDir();
    const path = `${dir}/resolv.conf`;
    writeFileSync(target.outside(`${dir}/stub-resolv.conf`), 'nameserver 127.0.0.53\n');
    symlinkSync('stub-resolv.conf', target.outside(path));
    const op = resolvConf({ id: 'r', path, stateDir: `${dir}/state`, nameservers: ['127.0.0.1'], rollbackSeconds: 5, freshLogin: true });
    const r = await switchOn(
      target,
      op,
      runtime(target, async () => {
        throw new Error('simulated');
      }),
    );
    t.regex(r.error ?? '', /rolled back/);
    t.true(lstatSync(target.outside(path)).isSymbolicLink());
    t.is(readlinkSync(target.outside(path)), 'stub-resolv.conf');
  });

  test.serial(`${target.name}: a file rewritten by someone else after the switch is not restored`, async (t) => {
    const dir = target.tempDir();
    const path = `${dir}/resolv.conf`;
    const state = `${dir}/state`;
    writeFileSync(target.outside(path), 'nameserver 10.231.1.1\n');
    const op = resolvConf({ id: 'r', path, stateDir: state, nameservers: ['127.0.0.1'], rollbackSeconds: 5 });
    const r = await switchOn(
      target,
      op,
      runtime(target, async () => {
        writeFileSync(target.outside(path), 'nameserver 192.0.2.1 # dhcp\n');
        throw new Error('simulated');
      }),
    );
    t.regex(r.error ?? '', /not restored: .* changed again after the switch/);
    t.is(readFileSync(target.outside(path), 'utf8'), 'nameserver 192.0.2.1 # dhcp\n');
  });
}


test('the timer script is valid sh (dash -n) and never touches the SSH channel', (t) => {
  const op = resolvConf({ id: 'r', nameservers: ['127.0.0.1'] });
  const p = op.plan(fakePathProbe({ type: 'absent' }), debian) as ChangePlan;
  const text = (p.commands[0] as ShellCommand).text;
  const d = mkdtempSync(join(tmpdir(), 'cairn-resolv-'));
  try {
    writeFileSync(join(d, 'cmd.sh'), text);
    t.is(spawnSync('sh', ['-n', join(d, 'cmd.sh')]).status, 0);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
