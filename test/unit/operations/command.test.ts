import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { sh, ShellCommand } from '../../../src/shell/sh.ts';
import { command } from '../../../src/operations/command.ts';
import type { ChangePlan, OpContext } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { SECTION_PREFIX } from '../../../src/facts/gather.ts';
import { apply, applyTwice, probeResult, targets } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[0] as Facts, bake: false };
const out = (sections: Record<string, string>) => probeResult(Object.entries(sections).map(([k, v]) => `\n${SECTION_PREFIX}${k}\n${v}\n`).join(''));

test('construction requires a guard, with the fix in the message', (t) => {
  t.throws(() => command({ id: 'c', run: sh`rc-update add nomad` }), {
    message: "command 'c': param `run` has no guard, so it would run on every apply; fix: add creates: <path the command makes>, or unless: sh`<check that exits 0 when done>`, or notIdempotent: true if it really must run every time",
  });
  t.throws(() => command({ id: 'c', run: 'ls' as never, notIdempotent: true }), { message: /param `run` must be a command built with the sh tag/ });
  t.throws(() => command({ id: 'c', run: sh`x`, unless: 'true' as never }), { message: /param `unless` must be a command built with the sh tag/ });
  t.throws(() => command({ id: 'c', run: sh`x`, creates: 'rel' }), { message: /param `creates` must be an absolute path/ });
});

test('creates: exists -> noop, absent -> change running the command', (t) => {
  const op = command({ id: 'init', run: sh`consul keygen > /etc/consul.d/key`, creates: '/etc/consul.d/key' });
  t.deepEqual(op.plan(out({ creates: 'exists' }), ctx), { kind: 'noop', reason: '/etc/consul.d/key exists' });
  const p = op.plan(out({ creates: 'absent' }), ctx) as ChangePlan;
  t.is(p.kind, 'change');
  t.is(p.reason, 'run consul keygen > /etc/consul.d/key');
  t.deepEqual(p.commands.map((c) => (c as ShellCommand).display), ['consul keygen > /etc/consul.d/key']);
});

test('unless: exit 0 -> noop, other -> change', (t) => {
  const op = command({ id: 'rc', run: sh`rc-update add nomad default`, unless: sh`rc-update show default | grep -q nomad` });
  t.deepEqual(op.plan(out({ unless: '0' }), ctx), { kind: 'noop', reason: 'unless check succeeded: rc-update show default | grep -q nomad' });
  t.is(op.plan(out({ unless: '1' }), ctx).kind, 'change');
});

test('both guards: either one skips', (t) => {
  const op = command({ id: 'b', run: sh`x`, creates: '/a', unless: sh`false` });
  t.is(op.plan(out({ creates: 'exists', unless: '1' }), ctx).kind, 'noop');
  t.is(op.plan(out({ creates: 'absent', unless: '0' }), ctx).kind, 'noop');
  t.is(op.plan(out({ creates: 'absent', unless: '1' }), ctx).kind, 'change');
});

test('notIdempotent: no probe, always a change', (t) => {
  const op = command({ id: 'n', run: sh`date`, notIdempotent: true });
  t.is(op.probe(ctx), undefined);
  t.is(op.plan(undefined, ctx).kind, 'change');
});

test('a failed or unreadable probe -> fail', (t) => {
  const op = command({ id: 'c', run: sh`x`, creates: '/a' });
  t.is(op.plan(probeResult('', 2, 'oops'), ctx).kind, 'fail');
  t.is(op.plan(probeResult('junk'), ctx).kind, 'fail');
  t.is(op.plan(undefined, ctx).kind, 'fail');
});

for (const target of targets()) {
  test(`${target.name}: creates guard with a hostile path, twice`, (t) => {
    const path = `${target.tempDir()}/made by $(cmd) 'x'`;
    applyTwice(t, target, command({ id: 'c', run: sh`printf '%s\n' made > ${path}`, creates: path }));
    t.is(readFileSync(target.outside(path), 'utf8'), 'made\n');
  });

  test(`${target.name}: unless guard, twice; the check's stdout cannot forge the result`, (t) => {
    const dir = target.tempDir();
    const flag = `${dir}/flag`;
    const op = command({ id: 'u', run: sh`touch ${flag}`, unless: sh`echo 0; printf '\n${SECTION_PREFIX}unless\n0\n'; test -e ${flag}` });
    applyTwice(t, target, op);
    t.true(existsSync(target.outside(flag)));
  });

  test(`${target.name}: notIdempotent runs every time`, (t) => {
    const op = command({ id: 'n', run: sh`true`, notIdempotent: true });
    t.is(apply(target, op).plan.kind, 'change');
    t.is(apply(target, op).plan.kind, 'change');
  });
}
