// A notified handler survives a failed run and a controller killed with -9: the
// notification is noted on the host in the same command as the change, check reports
// it as drift naming the handler and the step, the next apply runs it once, then
// changed=0. Real shell, local host.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cairn, jsonOf } from '../../helpers/cli.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));
const bin = fileURLToPath(new URL('../../../src/cli/bin.js', import.meta.url));

/** conf (notifies 'restart svc'), then a gate that fails until `ok` exists, then a step slow until `fast` exists. */
function setup(): { inv: string; out: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-pending-'));
  const out = join(dir, 'out');
  mkdirSync(out);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'roles', 'svc'), { recursive: true });
  writeFileSync(
    join(dir, 'roles', 'svc', 'index.ts'),
    `import { defineRole, file, command, sh } from ${JSON.stringify(srcIndex)};
const out = ${JSON.stringify(out)};
export default defineRole({
  name: 'svc',
  defaults: { svc_conf: 'v1' },
  steps: (ctx) => [
    file({ id: 'conf', path: out + '/svc.conf', content: String(ctx.vars.svc_conf) + '\\n', notify: ['restart svc'] }),
    command({ id: 'gate', run: sh\`test -e \${out + '/ok'} && touch \${out + '/gate-done'}\`, creates: out + '/gate-done' }),
    command({ id: 'slow', run: sh\`if [ ! -e \${out + '/fast'} ]; then sleep 30; fi; touch \${out + '/slow-done'}\`, creates: out + '/slow-done' }),
  ],
  handlers: () => ({ 'restart svc': [command({ id: 'restart', run: sh\`cat \${out + '/svc.conf'} >> \${out + '/restarts.log'}\`, notIdempotent: true })] }),
});
`,
  );
  writeFileSync(join(dir, 'inventory.yml'), 'hosts:\n  me: { connection: local }\ngroups:\n  g: { hosts: [me], roles: [svc] }\n');
  // notes go to the user's state dir when not root: keep them in the test's own dir
  return { inv: join(dir, 'inventory.yml'), out, env: process.getuid?.() === 0 ? {} : { XDG_STATE_HOME: join(dir, 'state') } };
}

const restarts = (out: string) => (existsSync(join(out, 'restarts.log')) ? readFileSync(join(out, 'restarts.log'), 'utf8') : '');

test.serial('a later step fails: the handler stays pending (check exit 2 names it), the next apply runs it once, then changed=0', async (t) => {
  const { inv, out, env } = setup();
  writeFileSync(join(out, 'fast'), '');
  const failed = await cairn(['apply', '-i', inv, '--json'], env);
  t.is(failed.code, 1, failed.stdout + failed.stderr);
  t.is(readFileSync(join(out, 'svc.conf'), 'utf8'), 'v1\n');
  t.is(restarts(out), '', 'the failed run did not restart');

  const check = await cairn(['check', '-i', inv, '--json'], env);
  t.is(check.code, 2, check.stdout + check.stderr);
  const h = jsonOf(check).hosts.me!.ops.find((o) => o.id === 'restart svc');
  t.is(h?.status, 'changed');
  t.is(h?.reason, "handler 'restart svc' is pending: notified by svc/conf in an earlier run that did not run it");

  writeFileSync(join(out, 'ok'), '');
  const fixed = await cairn(['apply', '-i', inv, '--json'], env);
  t.is(fixed.code, 0, fixed.stdout + fixed.stderr);
  t.is(restarts(out), 'v1\n', 'restarted once, with the config written by the failed run');
  const again = await cairn(['apply', '-i', inv, '--json'], env);
  t.is(jsonOf(again).hosts.me!.changed, 0, JSON.stringify(jsonOf(again).hosts.me!.ops.filter((o) => o.status !== 'ok')));
  t.is(restarts(out), 'v1\n');
  t.is((await cairn(['check', '-i', inv], env)).code, 0);
});

test.serial('the controller killed with -9 between the change and its handler: the next apply restarts', async (t) => {
  const { inv, out, env } = setup();
  writeFileSync(join(out, 'ok'), '');
  const p = spawn(process.execPath, [bin, 'apply', '-i', inv], { env: { ...process.env, CI: '1', ...env }, stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  while (!existsSync(join(out, 'svc.conf')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.true(existsSync(join(out, 'svc.conf')), 'the config was written');
  p.kill('SIGKILL');
  await new Promise((r) => p.on('close', r));
  t.is(restarts(out), '', 'killed before the handler');
  writeFileSync(join(out, 'fast'), '');
  const next = await cairn(['apply', '-i', inv, '--json'], env);
  t.is(next.code, 0, next.stdout + next.stderr);
  t.is(restarts(out), 'v1\n', 'the restart was not lost');
  t.is(jsonOf(await cairn(['apply', '-i', inv, '--json'], env)).hosts.me!.changed, 0);
});

/**
 * conf (notifies 'restart svc'), a user-written start step that satisfies the restart
 * when it starts the "service" (a file recording the config it started with), then a
 * gate failing until `ok` exists.
 */
function setupStart(): { inv: string; out: string; env: Record<string, string> } {
  const s = setup();
  const out = s.out;
  writeFileSync(
    join(out, '..', 'roles', 'svc', 'index.ts'),
    `import { defineRole, file, command, sh } from ${JSON.stringify(srcIndex)};
const out = ${JSON.stringify(out)};
const start = {
  kind: 'start', id: 'start',
  probe: () => sh\`if [ -e \${out + '/running'} ]; then echo up; else echo down; fi\`,
  plan: (p) => p.stdout.trim() === 'up'
    ? { kind: 'noop', reason: 'running' }
    : { kind: 'change', reason: 'start svc', commands: [sh\`cat \${out + '/svc.conf'} > \${out + '/running'}\`], satisfies: ['restart svc'] },
};
export default defineRole({
  name: 'svc',
  defaults: { svc_conf: 'v1' },
  steps: (ctx) => [
    file({ id: 'conf', path: out + '/svc.conf', content: String(ctx.vars.svc_conf) + '\\n', notify: ['restart svc'] }),
    start,
    command({ id: 'gate', run: sh\`test -e \${out + '/ok'} && touch \${out + '/gate-done'}\`, creates: out + '/gate-done' }),
  ],
  handlers: () => ({ 'restart svc': [command({ id: 'restart', run: sh\`cat \${out + '/svc.conf'} > \${out + '/running'} && cat \${out + '/svc.conf'} >> \${out + '/restarts.log'}\`, notIdempotent: true })] }),
});
`,
  );
  return s;
}

test.serial('a step that starts the stopped service satisfies its restart: no restart, no note left; a config change while it runs restarts it', async (t) => {
  const { inv, out, env } = setupStart();
  writeFileSync(join(out, 'ok'), '');
  const first = await cairn(['apply', '-i', inv, '--json'], env);
  t.is(first.code, 0, first.stdout + first.stderr);
  t.is(readFileSync(join(out, 'running'), 'utf8'), 'v1\n', 'started with the config written before it');
  t.is(restarts(out), '', 'no restart after a fresh start');
  t.regex(jsonOf(first).hosts.me!.ops.find((o) => o.id === 'start')?.reason ?? '', /'restart svc' not needed/);
  t.is((await cairn(['check', '-i', inv], env)).code, 0, 'no pending note left behind');

  // running: a config change restarts it
  const v2 = inv.replace(/inventory\.yml$/, 'v2.yml');
  writeFileSync(v2, readFileSync(inv, 'utf8').replace('roles: [svc] }', 'roles: [svc], vars: { svc_conf: v2 } }'));
  const changed = await cairn(['apply', '-i', v2, '--json'], env);
  t.is(changed.code, 0, changed.stdout + changed.stderr);
  t.is(restarts(out), 'v2\n');
  t.is(readFileSync(join(out, 'running'), 'utf8'), 'v2\n');
});

test.serial('a restart pending from a failed run is satisfied by a start of the stopped service in the next run (note removed)', async (t) => {
  const { inv, out, env } = setupStart();
  writeFileSync(join(out, 'running'), 'v0\n'); // running with an old config
  const failed = await cairn(['apply', '-i', inv, '--json'], env);
  t.is(failed.code, 1, 'the gate fails: the restart stays pending');
  t.is((await cairn(['check', '-i', inv], env)).code, 2);
  // the service stops meanwhile (a reboot, say); the next apply starts it with v1
  rmSync(join(out, 'running'));
  writeFileSync(join(out, 'ok'), '');
  const next = await cairn(['apply', '-i', inv, '--json'], env);
  t.is(next.code, 0, next.stdout + next.stderr);
  t.is(readFileSync(join(out, 'running'), 'utf8'), 'v1\n');
  t.is(restarts(out), '', 'started, not restarted');
  const check = await cairn(['check', '-i', inv, '--json'], env);
  t.is(check.code, 0, JSON.stringify(jsonOf(check).hosts.me!.ops.filter((o) => o.status !== 'ok')));
});
