// The quorum gate (src/services/autopilot.ts) and the raw HTTP reader it uses
// (src/services/http.ts), on answers shaped like the documented Consul / Nomad
// `GET /v1/operator/autopilot/health` (200 healthy, 429 not, 500 no leader).
import test, { type ExecutionContext } from 'ava';
import { parseHttpResponse, type HttpResponse } from '../../../src/services/http.ts';
import { parseAutopilotHealth, restartGate, quorumGate, type GateInput } from '../../../src/services/autopilot.ts';
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

const server = (name: string, addr: string, o: Record<string, unknown> = {}) => ({
  ID: `id-${name}`,
  Name: name,
  Address: addr,
  SerfStatus: 'alive',
  Version: '1.20.2',
  Leader: false,
  LastContact: '12ms',
  LastTerm: 2,
  LastIndex: 46,
  Healthy: true,
  Voter: true,
  StableSince: '2025-01-01T00:00:00Z',
  ...o,
});
const HEALTHY3 = { Healthy: true, FailureTolerance: 1, Servers: [server('c1', '10.0.0.11:8300', { Leader: true, LastContact: '0s' }), server('c2', '10.0.0.12:8300'), server('c3', '10.0.0.13:8300')] };
const C2_DOWN = {
  Healthy: false,
  FailureTolerance: 0,
  Servers: [server('c1', '10.0.0.11:8300', { Leader: true, LastContact: '0s' }), server('c2', '10.0.0.12:8300', { SerfStatus: 'failed', Healthy: false, LastContact: '1m3.2s' }), server('c3', '10.0.0.13:8300')],
};

const resp = (status: number, body: unknown, reason = 'OK'): HttpResponse => parseHttpResponse(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nX-Consul-Index: 0\r\n\r\n${typeof body === 'string' ? body : JSON.stringify(body)}`);
const gate = (response: HttpResponse, o: Partial<GateInput> = {}) =>
  restartGate({ product: 'consul', host: 'c1', response, self: { names: ['c1'], addresses: ['10.0.0.11:8300'] }, allowQuorumLoss: false, ...o });

test('parseHttpResponse: curl -i (CRLF), interim 100 Continue, LF only, busybox wget stand-in, unreachable', (t) => {
  t.deepEqual(parseHttpResponse('HTTP/1.1 429 Too Many Requests\r\nA: b\r\n\r\n{"x":1}\n'), { status: 429, body: '{"x":1}' });
  t.deepEqual(parseHttpResponse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n{}'), { status: 200, body: '{}' });
  t.deepEqual(parseHttpResponse('HTTP/1.0 500 Internal Server Error\nContent-Type: text/plain\n\nNo cluster leader'), { status: 500, body: 'No cluster leader' });
  t.deepEqual(parseHttpResponse('HTTP/1.0 429 (busybox wget keeps no body)\r\n\r\n'), { status: 429, body: '' });
  t.deepEqual(parseHttpResponse('cairn-http: unreachable\n'), { unreachable: 'no answer' });
  has(t, parseHttpResponse('garbage'), { unreachable: 'unreadable answer: "garbage"' });
});

test('parseAutopilotHealth: the documented shape; anything else is an error', (t) => {
  const h = parseAutopilotHealth(JSON.stringify(C2_DOWN));
  has(t, h, { Healthy: false, FailureTolerance: 0 });
  has(t, (h as unknown as { Servers: unknown[] }).Servers[1], { Name: 'c2', SerfStatus: 'failed', Healthy: false, Voter: true });
  has(t, parseAutopilotHealth('No cluster leader'), { error: 'not JSON: "No cluster leader"' });
  has(t, parseAutopilotHealth('{"Healthy":true}'), { error: /not an autopilot health answer/ });
});

test('healthy with FailureTolerance >= 1: restart', (t) => {
  has(t, gate(resp(200, HEALTHY3)), { allow: true, message: 'consul cluster is healthy: 3 voters, FailureTolerance 1' });
});

test('one of three down: refuse, naming the server and why', (t) => {
  const d = gate(resp(429, C2_DOWN, 'Too Many Requests'));
  t.false(d.allow);
  t.is(d.message, 'consul server c2 is not healthy (serf status failed, last contact with the leader 1m3.2s ago): restarting c1 would lose the quorum; bring c2 back or pass --allow-quorum-loss (consul_allow_quorum_loss: true)');
});

test('allow_quorum_loss: restart anyway, as a warning', (t) => {
  const d = gate(resp(429, C2_DOWN), { allowQuorumLoss: true });
  has(t, d, { allow: true, overridden: true });
  t.regex(d.message, /restarting anyway: consul_allow_quorum_loss is set$/);
});

test('only this server is unhealthy: its restart costs no healthy voter', (t) => {
  const selfDown = { ...C2_DOWN, Servers: C2_DOWN.Servers.map((s) => (s.Name === 'c2' ? { ...s, SerfStatus: 'alive', Healthy: false, LastContact: '2.5s' } : s)) };
  has(t, gate(resp(429, selfDown), { host: 'c2', self: { names: ['c2'], addresses: [] } }), { allow: true, message: /only this consul server \(c2\) is unhealthy/ });
  // matched by address when the names differ (nomad: <name>.<region>)
  has(t, gate(resp(429, selfDown), { host: 'c2', self: { names: ['other'], addresses: ['10.0.0.12:8300'] } }), { allow: true });
});

test('five servers, one down: FailureTolerance 1 but degraded: refuse (gate on Healthy and FailureTolerance)', (t) => {
  const five = {
    Healthy: false,
    FailureTolerance: 1,
    Servers: ['1', '2', '3', '4', '5'].map((n) => server(`n${n}.global`, `10.0.0.1${n}:4647`, n === '4' ? { SerfStatus: 'left', Healthy: false } : {})),
  };
  const d = gate(resp(429, five), { product: 'nomad', host: 'n1', self: { names: ['n1.global'], addresses: [] } });
  t.false(d.allow);
  t.regex(d.message, /^nomad server n4\.global is not healthy \(serf status left, last contact with the leader 12ms ago\): restarting n1 would leave the cluster tolerating 0 more failure\(s\) while it is degraded; bring n4\.global back or pass --allow-quorum-loss \(nomad_allow_quorum_loss: true\)$/);
});

test('two servers (even): healthy but FailureTolerance 0: refuse', (t) => {
  const two = { Healthy: true, FailureTolerance: 0, Servers: [server('c1', 'a:1', { Leader: true }), server('c2', 'b:1')] };
  has(t, gate(resp(200, two)), { allow: false, message: /tolerates no failure \(Healthy true, FailureTolerance 0, 2 voters\)/ });
});

test('single server, no leader, agent down: nothing to lose, restart', (t) => {
  const one = { Healthy: true, FailureTolerance: 0, Servers: [server('solo', '10.0.0.5:8300', { Leader: true })] };
  has(t, gate(resp(200, one)), { allow: true, message: /single consul server: no quorum to keep/ });
  has(t, gate(parseHttpResponse('HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nNo cluster leader')), { allow: true, message: /has no leader \(No cluster leader\)/ });
  has(t, gate(parseHttpResponse('cairn-http: unreachable\n')), { allow: true, message: /does not answer/ });
});

test('unreadable or forbidden answers and a 429 without body: refuse, not restart blind', (t) => {
  has(t, gate(parseHttpResponse('HTTP/1.1 403 Forbidden\r\n\r\nPermission denied')), { allow: false, message: /HTTP 403 Permission denied; not restarting blind/ });
  has(t, gate(parseHttpResponse('HTTP/1.0 429 (busybox wget keeps no body)\r\n\r\n')), { allow: false, message: /answers 429: the cluster is not healthy \(no details: install curl for them\)/ });
  has(t, gate(resp(200, '<html>')), { allow: false, message: /unreadable/ });
});

test('quorumGate op: probes the local agent, fails the step on refusal, noop otherwise; skip = no probe', (t) => {
  const ctx = { host: 'c1', facts: stubFacts[0]!, bake: false };
  const op = quorumGate({ id: 'quorum-before-restart', product: 'consul', host: 'c1', base: 'http://127.0.0.1:8500', self: { names: ['c1'], addresses: [] }, allowQuorumLoss: false });
  t.regex(op.probe(ctx)!.text, /cairn_http_req GET '?http:\/\/127\.0\.0\.1:8500\/v1\/operator\/autopilot\/health/);
  const run = (stdout: string) => op.plan({ command: '', durationMs: 0, exitCode: 0, stdout, stderr: '' }, ctx);
  has(t, run(`HTTP/1.1 429 Too Many Requests\r\n\r\n${JSON.stringify(C2_DOWN)}`), { kind: 'fail', message: /consul server c2 is not healthy/ });
  has(t, run(`HTTP/1.1 200 OK\r\n\r\n${JSON.stringify(HEALTHY3)}`), { kind: 'noop' });
  const over = quorumGate({ id: 'g', product: 'consul', host: 'c1', base: 'http://x:1', self: { names: [], addresses: [] }, allowQuorumLoss: true });
  has(t, over.plan({ command: '', durationMs: 0, exitCode: 0, stdout: `HTTP/1.1 429 X\r\n\r\n${JSON.stringify(C2_DOWN)}`, stderr: '' }, ctx), { kind: 'warn' });
  const skipped = quorumGate({ id: 'g', product: 'consul', host: 'c1', base: 'http://x:1', self: { names: [], addresses: [] }, allowQuorumLoss: false, skip: () => 'single server' });
  t.is(skipped.probe(ctx), undefined);
  has(t, skipped.plan(undefined, ctx), { kind: 'noop', reason: 'single server' });
  has(t, op.plan(undefined, { ...ctx, bake: true }), { kind: 'noop' });
});
