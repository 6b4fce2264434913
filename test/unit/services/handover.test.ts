/** openrcHandover: planning from the probe (the real switch is in integration/roles/supervisor-switch). */
import test from 'ava';
import { openrcHandover, parseHandoverProbe } from '../../../src/services/handover.ts';
import type { OpContext } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';

const ctx = (bake = false): OpContext => ({ host: 'h', facts: stubFacts[0]!, bake });
const plan = (stdout: string) => openrcHandover('x-handover', 'x', 's6').plan({ code: 0, stdout, stderr: '' } as never, ctx());

test('probe output: no script, or script + supervisor + status', (t) => {
  t.deepEqual(parseHandoverProbe(''), { script: false, supervisor: '', status: '' });
  t.deepEqual(parseHandoverProbe('script\nsupervise-daemon\nstarted\n'), { script: true, supervisor: 'supervise-daemon', status: 'started' });
  t.deepEqual(parseHandoverProbe('script\n\nstopped\n'), { script: true, supervisor: '', status: 'stopped' });
});

test('stops only a running service whose script names another supervisor', (t) => {
  t.like(plan(''), { kind: 'noop' });
  t.like(plan('script\ns6\nstarted\n'), { kind: 'noop' });
  t.like(plan('script\nsupervise-daemon\nstopped\n'), { kind: 'noop' });
  const p = plan('script\nsupervise-daemon\nstarted\n');
  t.like(p, { kind: 'change', reason: 'stop x (started) under supervise-daemon before it moves to s6' });
  t.deepEqual(p.kind === 'change' ? p.commands.map((c) => ('text' in c ? c.text : c)) : [], ['rc-service x stop']);
  t.like(plan('script\nsupervise-daemon\ncrashed\n'), { kind: 'change' }, 'a crashed supervise-daemon instance is stopped too');
  t.like(plan('script\n\nstarted\n'), { kind: 'change', reason: 'stop x (started) under none (OpenRC start-stop-daemon) before it moves to s6' });
  const fromS6 = openrcHandover('x-handover', 'x', 'supervise-daemon').plan({ code: 0, stdout: 'script\ns6\nstarted\n', stderr: '' } as never, ctx());
  t.deepEqual(
    fromS6.kind === 'change' ? fromS6.commands.map((c) => ('text' in c ? c.text : c)) : [],
    ['rc-service x stop', "if [ -L /run/openrc/s6-scan/x ]; then rm -f /run/openrc/s6-scan/x; s6-svscanctl -an /run/openrc/s6-scan; fi"],
    'from s6: the link OpenRC leaves and its s6-supervise go too',
  );
});

test('bake mode: no probe, nothing to stop', (t) => {
  const op = openrcHandover('x-handover', 'x', 'supervise-daemon');
  t.is(op.probe(ctx(true)), undefined);
  t.like(op.plan(undefined, ctx(true)), { kind: 'noop' });
  t.truthy(op.probe(ctx(false)));
});
