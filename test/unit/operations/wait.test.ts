import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh, ShellCommand } from '../../../src/shell/sh.ts';
import { wait } from '../../../src/operations/wait.ts';
import type { ChangePlan, OpContext } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { apply, probeResult, targets, scratch } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[0] as Facts, bake: false };

test('invalid params', (t) => {
  t.throws(() => wait({ id: 'w' }), { message: /wait 'w': param `tcp\/http\/command` needs exactly one of them, got none/ });
  t.throws(() => wait({ id: 'w', tcp: { host: 'a', port: 1 }, http: { url: 'http://a' } }), { message: /exactly one of them, got tcp, http/ });
  t.throws(() => wait({ id: 'w', tcp: { host: 'a;b', port: 1 } }), { message: /param `tcp.host`/ });
  t.throws(() => wait({ id: 'w', tcp: { host: 'a', port: 70000 } }), { message: /param `tcp.port`/ });
  t.throws(() => wait({ id: 'w', http: { url: 'ftp://x' } }), { message: /param `http.url` must be an http\(s\) URL/ });
  t.throws(() => wait({ id: 'w', command: 'true' as never }), { message: /param `command` must be a command built with the sh tag/ });
  t.throws(() => wait({ id: 'w', command: sh`true`, timeoutMs: 0 }), { message: /param `timeoutMs`/ });
  t.throws(() => wait({ id: 'w', command: sh`true`, timeoutMs: 1000, intervalMs: 5000 }), { message: /param `intervalMs`/ });
});

test('plan: ready -> noop; waiting -> a host-side polling loop', (t) => {
  const op = wait({ id: 'leader', http: { url: 'http://127.0.0.1:8500/v1/status/leader' }, timeoutMs: 30_000, intervalMs: 500 });
  t.deepEqual(op.plan(probeResult('ready\n'), ctx), { kind: 'noop', reason: 'http http://127.0.0.1:8500/v1/status/leader is ready' });
  const p = op.plan(probeResult('waiting\n'), ctx) as ChangePlan;
  t.is(p.reason, 'wait for http http://127.0.0.1:8500/v1/status/leader (up to 30s)');
  const loop = (p.commands[0] as ShellCommand).display;
  t.regex(loop, /end=\$\(\( \$\(date \+%s\) \+ 30 \)\)/);
  t.regex(loop, /sleep 0\.5/);
  t.regex(loop, /curl -s -o \/dev\/null -w '%\{http_code\}' --max-time 5 http:\/\/127\.0\.0\.1:8500\/v1\/status\/leader/);
  t.regex(loop, /wget -q -T 5 -O \/dev\/null/);
  t.is(op.plan(probeResult('junk'), ctx).kind, 'fail');
});

test('bake mode: no probe, noop', (t) => {
  const op = wait({ id: 'w', tcp: { host: '127.0.0.1', port: 4646 } });
  const bake = { ...ctx, bake: true };
  t.is(op.probe(bake), undefined);
  t.is(op.plan(undefined, bake).kind, 'noop');
});

// servers run in child processes: the shells run synchronously here, blocking this event loop
for (const target of targets()) {
  test(`${target.name}: tcp: open port -> noop; closed -> polls, times out with a message`, (t) => {
    const server = serve("require('net').createServer((c)=>c.end())");
    try {
      t.is(apply(target, wait({ id: 'w', tcp: { host: '127.0.0.1', port: server.port }, timeoutMs: 5000 })).plan.kind, 'noop');
    } finally {
      server.stop();
    }
    // closed: port 1 (tcpmux), where nothing listens; the server's freed port may be taken
    // by another test file's listener in the meantime
    const started = Date.now();
    const r = apply(target, wait({ id: 'w', tcp: { host: '127.0.0.1', port: 1 }, timeoutMs: 1500, intervalMs: 200 }));
    t.is(r.plan.kind, 'change');
    t.is(r.exitCode, 1);
    t.regex(r.stderr, /wait 'w': tcp 127\.0\.0\.1:1 not ready after 2s/);
    t.true(Date.now() - started >= 1000);
  });

  test(`${target.name}: command: not ready at probe time, ready while the host-side loop polls; then noop`, (t) => {
    const at = Math.floor(Date.now() / 1000) + 2;
    const op = wait({ id: 'w', command: sh`[ "$(date +%s)" -ge ${at} ]`, timeoutMs: 10_000, intervalMs: 200 });
    const first = apply(target, op);
    t.is(first.plan.kind, 'change');
    t.is(first.exitCode, 0, first.stderr);
    t.true(Date.now() / 1000 >= at - 1);
    t.is(apply(target, op).plan.kind, 'noop');
  });
}

/** A server (`create` makes a net or http server) in a child process, listening on 127.0.0.1. */
function serve(create: string): { port: number; stop: () => void } {
  const portFile = join(scratch('cairn-serve-'), 'port');
  const code = `const s=${create};s.listen(0,'127.0.0.1',()=>{require('fs').writeFileSync(${JSON.stringify(portFile)},String(s.address().port))})`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  child.unref();
  const deadline = Date.now() + 10_000;
  const readPort = () => (existsSync(portFile) ? Number(readFileSync(portFile, 'utf8')) : 0);
  // the file exists a moment before its content is written
  while (!readPort() && Date.now() < deadline) spawnSync('sleep', ['0.05']);
  const port = readPort();
  if (!port) throw new Error('test server did not start');
  return {
    port,
    stop: () => {
      child.kill('SIGKILL');
      // wait until the port is really closed: a deadline of its own (a slow start under a
      // loaded CI must not leave a killed-but-still-listening server to the next assertion)
      const until = Date.now() + 10_000;
      const open = () => spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { shell: false }).status === 0;
      while (open() && Date.now() < until) spawnSync('sleep', ['0.05']);
      if (open()) throw new Error(`test server on port ${port} still answers 10 s after SIGKILL`);
    },
  };
}

const httpServer = (status: number) => serve(`require('http').createServer((q,r)=>{r.statusCode=${status};r.end('x')})`);

for (const target of targets()) {
  test(`${target.name}: http: 200 -> noop; 500 -> polls and times out`, (t) => {
    const ok = httpServer(200);
    const bad = httpServer(500);
    try {
      t.is(apply(target, wait({ id: 'h', http: { url: `http://127.0.0.1:${ok.port}/health` }, timeoutMs: 5000 })).plan.kind, 'noop');
      const r = apply(target, wait({ id: 'h', http: { url: `http://127.0.0.1:${bad.port}/health` }, timeoutMs: 1000, intervalMs: 200 }));
      t.is(r.plan.kind, 'change');
      t.is(r.exitCode, 1);
      t.regex(r.stderr, /not ready after 1s/);
    } finally {
      ok.stop();
      bad.stop();
    }
  });
}
