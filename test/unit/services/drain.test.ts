// Nomad client drains around a restart (src/services/drain.ts): the pure
// decisions on answers shaped like the Nodes HTTP API and /v1/agent/self.
import test, { type ExecutionContext } from 'ava';
import { durationNs, parseNodeState, drainDecision, eligibleDecision, drainBody, nodeDrain } from '../../../src/services/drain.ts';
import { stubFacts } from '../../../src/facts/stub.ts';

/** t.like, with RegExp values matched against the (string) property */
function has(t: ExecutionContext, v: unknown, want: Record<string, unknown>): void {
  for (const [k, w] of Object.entries(want)) {
    const got = (v as Record<string, unknown>)[k];
    if (w instanceof RegExp) t.regex(String(got), w, k);
    else if (w && typeof w === 'object') has(t, got, w as Record<string, unknown>);
    else t.is(got, w, k);
  }
}

const ID = 'f7476465-4d6e-c0de-26d0-e383c49be941';
const self = (allocs: string) => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ config: { Client: { Enabled: true } }, stats: { client: { node_id: ID, num_allocations: allocs, known_servers: '10.0.0.11:4647' } } })}`;
const node = (o: Record<string, unknown>) => `HTTP/1.1 200 OK\r\n\r\n${JSON.stringify({ ID, Name: 'pi1', Drain: false, DrainStrategy: null, SchedulingEligibility: 'eligible', Status: 'ready', ...o })}`;
const probe = (a: string, b: string) => `${a}\n@@cairn-node@@\n${b}`;

test('durationNs: Go durations', (t) => {
  t.is(durationNs('5m'), 300e9);
  t.is(durationNs('1h30m'), 5400e9);
  t.is(durationNs('90s'), 90e9);
  t.is(durationNs('1.5s'), 1.5e9);
  t.is(durationNs('500ms'), 5e8);
  for (const bad of ['0s', '5', 'soon', '', '-1m', 300]) t.is(durationNs(bad), undefined, String(bad));
});

test('parseNodeState: node id and allocations from /v1/agent/self, eligibility and drain from /v1/node/:id', (t) => {
  t.deepEqual(parseNodeState(probe(self('3'), node({}))), { nodeId: ID, allocations: 3, eligible: true, draining: false });
  has(t, parseNodeState(probe(self('1'), node({ Drain: true, SchedulingEligibility: 'ineligible', DrainStrategy: { Deadline: 3.6e12, IgnoreSystemJobs: false, ForceDeadline: '2025-01-01T01:00:00Z', StartedAt: '2025-01-01T00:00:00Z' } }))), { eligible: false, draining: true });
  has(t, parseNodeState('cairn-http: unreachable\n@@cairn-node@@\n'), { error: /does not answer/ });
  has(t, parseNodeState(probe('HTTP/1.1 200 OK\r\n\r\n{"stats":{}}', '')), { error: /runs no client/ });
  has(t, parseNodeState(probe(self('0'), 'HTTP/1.1 404 Not Found\r\n\r\nnode not found')), { error: /HTTP 404 node not found/ });
});

test('drainDecision: drain only a node that runs allocations; wait for a drain in progress; off switch', (t) => {
  const s = { nodeId: ID, allocations: 2, eligible: true, draining: false };
  has(t, drainDecision(s, true), { drain: true, wasEligible: true, start: true });
  has(t, drainDecision({ ...s, allocations: 0 }, true), { drain: false, reason: /runs no allocation: the restart kills nothing/ });
  has(t, drainDecision({ ...s, draining: true, eligible: false }, true), { drain: true, start: false, wasEligible: false });
  has(t, drainDecision({ ...s, eligible: false }, true), { drain: true, wasEligible: false });
  has(t, drainDecision(s, false), { drain: false, reason: /nomad_drain_before_restart is false/ });
  has(t, drainDecision({ error: 'the local nomad agent does not answer (no answer)' }, true), { drain: false, reason: 'not draining: the local nomad agent does not answer (no answer)' });
});

test('eligibleDecision: only a node this run drained that was eligible before; a new identity is left alone', (t) => {
  const drained = drainDecision({ nodeId: ID, allocations: 2, eligible: true, draining: false }, true);
  const now = { nodeId: ID, allocations: 0, eligible: false, draining: false };
  has(t, eligibleDecision(drained, now), { act: true, nodeId: ID });
  has(t, eligibleDecision(drained, { ...now, eligible: true }), { act: false, reason: /is eligible/ });
  has(t, eligibleDecision(drained, { ...now, nodeId: 'new-id', eligible: true }), { act: false, reason: /a new node now \(new-id/ });
  has(t, eligibleDecision(drainDecision({ ...now, allocations: 2 }, true), now), { act: false, reason: /was not eligible before the drain: left ineligible/ });
  has(t, eligibleDecision(undefined, now), { act: false });
});

test('drainBody: the documented DrainSpec', (t) => {
  t.deepEqual(JSON.parse(drainBody(300e9, 'cairn')), { DrainSpec: { Deadline: 300000000000, IgnoreSystemJobs: false }, Meta: { message: 'cairn' } });
});

test('nodeDrain ops: drain POSTs the DrainSpec and waits for DrainStrategy null; eligible POSTs {"Eligibility":"eligible"}', (t) => {
  const ctx = { host: 'pi1', facts: stubFacts[0]!, bake: false };
  const { drain, eligible } = nodeDrain({ id: 'drain-before-restart', base: 'http://127.0.0.1:4646', deadlineNs: 60e9, enabled: true, message: 'cairn: restart' });
  const after = eligible('eligible-after-restart');
  t.true(after.barrier);
  t.regex(drain.probe(ctx)!.text, /\/v1\/agent\/self/);
  const r = (stdout: string) => ({ command: '', durationMs: 0, exitCode: 0, stdout, stderr: '' });
  const plan = drain.plan(r(probe(self('2'), node({}))), ctx);
  t.is(plan.kind, 'change');
  const text = plan.kind === 'change' ? plan.commands.map((c) => ('text' in c ? c.text : '')).join('\n') : '';
  t.regex(text, new RegExp(`cairn_http_req POST '?http://127\\.0\\.0\\.1:4646/v1/node/${ID}/drain'? '\\{"DrainSpec":\\{"Deadline":60000000000,"IgnoreSystemJobs":false\\}`));
  t.regex(text, /"DrainStrategy":null/);
  t.regex(text, /\+ 90 \)\)/, 'waits the deadline plus 30 s');
  const e = after.plan(r(probe(self('0'), node({ SchedulingEligibility: 'ineligible' }))), ctx);
  t.is(e.kind, 'change');
  t.regex(e.kind === 'change' ? e.commands.map((c) => ('text' in c ? c.text : '')).join('\n') : '', /\/eligibility'? '\{"Eligibility":"eligible"\}'/);
  // nothing to drain: no drain, no eligibility change
  has(t, drain.plan(r(probe(self('0'), node({}))), ctx), { kind: 'noop' });
  t.is(after.probe(ctx), undefined);
  has(t, after.plan(undefined, ctx), { kind: 'noop', reason: /not drained before the restart/ });
});
