import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../../src/shell/sh.ts';
import { LocalConnector } from '../../../src/connectors/local.ts';

const local = (become: false | 'sudo' | 'doas' = false): LocalConnector => new LocalConnector({ name: 'localhost', become }, { commandTimeoutMs: 0 });

test('exit codes, stdout/stderr, stdin, signals', async (t) => {
  const c = local();
  await c.connect();
  t.like(await c.run(sh`echo out; echo err >&2; exit 4`), { exitCode: 4, stdout: 'out\n', stderr: 'err\n', command: 'echo out; echo err >&2; exit 4' });
  t.is((await c.run(sh`tr a-z A-Z`, { stdin: Buffer.from('abc') })).stdout, 'ABC');
  t.is((await c.run(sh`cat; echo end`)).stdout, 'end\n', 'no stdin: EOF at once');
  t.is((await c.run(sh`kill -TERM $$`)).exitCode, 143);
  t.is((await c.run(sh`no-such-command-xyz`)).exitCode, 127);
  t.is((await c.run(sh`readlink -f /proc/$$/exe`)).stdout.trim(), (await c.run(sh`readlink -f /bin/sh`)).stdout.trim(), 'runs /bin/sh');
  await c.close();
});

test('timeout: 124, note, and background children of the command are killed too', async (t) => {
  const c = local();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-local-'));
  const marker = join(dir, 'survived');
  const started = Date.now();
  const r = await c.run(sh`(sleep 1.5; touch ${marker}) & sleep 30`, { timeoutMs: 300 });
  t.is(r.exitCode, 124);
  t.regex(r.stderr, /timed out after 300 ms/);
  t.true(Date.now() - started < 3000);
  await new Promise((res) => setTimeout(res, 2000));
  t.false(existsSync(marker), 'the whole process group was stopped');
});

test('upload writes the exact path with the mode; download reads it; missing -> undefined', async (t) => {
  const c = local();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-local-'));
  const p = join(dir, 'f');
  await c.upload(p, Buffer.from('one'), { mode: 0o600 });
  t.is(readFileSync(p, 'utf8'), 'one');
  t.is(statSync(p).mode & 0o777, 0o600);
  await c.upload(p, Buffer.from('two'), { mode: 0o755 });
  t.is(statSync(p).mode & 0o777, 0o755, 'mode applied to an existing file');
  t.deepEqual(await c.download(p), Buffer.from('two'));
  t.is(await c.download(join(dir, 'missing')), undefined);
});

test('become is not applied when cairn already runs as root', async (t) => {
  if (process.getuid?.() !== 0) return t.pass('not root');
  const c = local('sudo');
  t.false(c.usesBecome);
  t.is((await c.run(sh`id -u`)).stdout, '0\n');
});
