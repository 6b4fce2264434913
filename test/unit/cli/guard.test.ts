import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunProgress } from '../../../src/cli/progress.ts';

// The process-level guard of the CLI: a run that never settles, or an error
// that escapes it, still ends with a message, the recap so far and exit 1
// (never Node's silent exit 13).

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const guard = new URL('../../../src/cli/guard.ts', import.meta.url).href;

function runScript(body: string): { status: number | null; stdout: string; stderr: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'cairn-guard-')), 'run.mts');
  writeFileSync(
    file,
    `import { guardRun } from ${JSON.stringify(guard)};
const out = (s: string) => void process.stdout.write(s + '\\n');
const err = (s: string) => void process.stderr.write(s + '\\n');
const recap = () => 'RECAP\\nweb1 (finished)';
${body}
`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: repo, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const INTERNAL = /^cairn: internal error: .*\(the run did not finish\); please report$/m;

test('a run whose promise never settles exits 1 with a message and the recap (not 13, silent)', (t) => {
  const r = runScript(`guardRun(new Promise<number>(() => {}), { out, err, recap, exit: (c) => process.exit(c) });`);
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, INTERNAL);
  t.regex(r.stderr, /the run stopped: it waits for something that will never come/);
  t.is(r.stdout, 'RECAP\nweb1 (finished)\n');
});

test('an uncaught exception during the run exits 1 with the error and the recap', (t) => {
  const r = runScript(`guardRun(new Promise<number>(() => {}), { out, err, recap, exit: (c) => process.exit(c) });
setTimeout(() => { throw new Error('read ECONNRESET'); }, 10);
setTimeout(() => undefined, 5000);`);
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, INTERNAL);
  t.regex(r.stderr, /uncaught exception: Error: read ECONNRESET/);
  t.is(r.stdout, 'RECAP\nweb1 (finished)\n');
});

test('an unhandled rejection during the run exits 1 with the error', (t) => {
  const r = runScript(`guardRun(new Promise<number>(() => {}), { out, err, recap, exit: (c) => process.exit(c) });
void Promise.reject(new Error('lost'));
setTimeout(() => undefined, 5000);`);
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /unhandled promise rejection: Error: lost/);
});

test("a run that settles sets the process's exit code and prints nothing", (t) => {
  const r = runScript(`guardRun(new Promise<number>((r) => setTimeout(() => r(2), 20)), { out, err, recap, exit: (c) => process.exit(c) });`);
  t.is(r.status, 2, r.stderr);
  t.is(r.stderr, '');
  t.is(r.stdout, '');
});

test('the progress recap lists finished hosts and names the unfinished ones', (t) => {
  const p = new RunProgress();
  t.is(p.recap(), undefined);
  p.begin('apply', false);
  p.track({ type: 'host:start', host: 'web1' });
  p.track({ type: 'host:start', host: 'web2' });
  p.track({ type: 'host:end', host: 'web1', summary: { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: false, roundTrips: 2, ops: [] } });
  const recap = p.recap()!;
  t.regex(recap, /^RECAP\nHOST/);
  t.regex(recap, /^web1 +1 +0 +0 +0 +no\b/m);
  t.notRegex(recap, /^web2 /m);
  t.regex(recap, /\nnot finished: web2$/);
});

test('with --json the progress recap is the JSON document of every host: the finished ones, and the unfinished ones failed', (t) => {
  const p = new RunProgress();
  p.begin('check', true);
  p.track({ type: 'host:start', host: 'web1' });
  p.track({ type: 'host:start', host: 'web2' });
  p.track({ type: 'host:end', host: 'web1', summary: { ok: 0, changed: 1, failed: 0, skipped: 0, unreachable: false, roundTrips: 1, ops: [] } });
  const doc = JSON.parse(p.recap()!) as { mode: string; hosts: Record<string, { changed: number; failed: number; error?: string }> };
  t.is(doc.mode, 'check');
  t.is(doc.hosts.web1!.changed, 1);
  t.is(doc.hosts.web2!.failed, 1);
  t.regex(doc.hosts.web2!.error ?? '', /^not finished: cairn stopped on an internal error/);
});
