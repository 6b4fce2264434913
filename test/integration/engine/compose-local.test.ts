// Steps of one run that build on each other, on the controller itself (real shell,
// real files): a seeded file edited five times, its mode changed, another removed.
// One apply gives exactly the combined result with one backup of what the host had;
// the second apply and check change nothing; check on a host with the file shows one
// combined diff; `file` then `line` on a new file works in one run.
import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, statSync, existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cairn, jsonOf } from '../../helpers/cli.ts';
import { composeRole, COMBINED, SEED, STEPS } from './_compose-role.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));

function project(): { inv: string; dir: string } {
  const base = mkdtempSync(join(tmpdir(), 'cairn-compose-local-'));
  const dir = join(base, 'etc');
  symlinkSync(composeRole(dir), join(base, 'roles'));
  writeFileSync(join(base, 'inventory.yml'), 'hosts:\n  me: { connection: local }\ngroups:\n  g: { hosts: [me], roles: [compose] }\n');
  return { inv: join(base, 'inventory.yml'), dir };
}

test('five edits of one file, an attribute change and a removal: one apply gives the combined result, then changed=0', async (t) => {
  const { inv, dir } = project();
  mkdirSync(dir);
  writeFileSync(join(dir, 'stale.conf'), 'old\n');
  const first = await cairn(['apply', '-i', inv, '--json']);
  t.is(first.code, 0, first.stdout + first.stderr);
  const ops = jsonOf(first).hosts.me!.ops;
  t.deepEqual(Object.fromEntries(ops.map((o) => [o.id, o.status])), Object.fromEntries(STEPS.map((s) => [s, s === 'dir' ? 'ok' : 'changed'])));
  t.is(readFileSync(join(dir, 'sshd_config'), 'utf8'), COMBINED);
  t.is(statSync(join(dir, 'sshd_config')).mode & 0o777, 0o600);
  t.false(existsSync(join(dir, 'stale.conf')), 'removed');
  const backups = readdirSync(dir).filter((f) => f.startsWith('sshd_config.cairn-bak.'));
  t.is(backups.length, 1, `one backup of what the seed wrote, not one per edit: ${backups.join(' ')}`);
  t.is(readFileSync(join(dir, backups[0]!), 'utf8'), SEED);
  t.is(readdirSync(dir).filter((f) => f.startsWith('stale.conf.cairn-bak.')).length, 1, 'the removed file is kept as a backup');

  const second = await cairn(['apply', '-i', inv, '--json']);
  t.is(second.code, 0, second.stdout + second.stderr);
  const s = jsonOf(second).hosts.me!;
  t.is(s.changed, 0, JSON.stringify(s.ops.filter((o) => o.status !== 'ok')));
  t.is(s.roundTrips, 2, 'a no-op run: facts + one probe');
  t.is((await cairn(['check', '-i', inv])).code, 0);
});

test('check on a host with the stock file: every edit judged on the one before it, one combined diff, nothing changed', async (t) => {
  const { inv, dir } = project();
  mkdirSync(dir);
  writeFileSync(join(dir, 'sshd_config'), SEED);
  const r = await cairn(['check', '-i', inv, '--json']);
  t.is(r.code, 2, r.stdout + r.stderr);
  const host = jsonOf(r).hosts.me as unknown as { ops: { id: string; status: string; diff?: string }[]; files?: { path: string; steps: string[]; diff: string }[] };
  t.deepEqual(Object.fromEntries(host.ops.map((o) => [o.id, o.status])), Object.fromEntries(STEPS.map((s) => [s, ['dir', 'seed', 'stale'].includes(s) ? 'ok' : 'changed'])));
  // the second line edit's own diff is against the first edit's result
  t.regex(host.ops.find((o) => o.id === 'password-auth')!.diff ?? '', /^ PermitRootLogin prohibit-password$/m);
  const combined = host.files?.find((f) => f.path === `${dir}/sshd_config`);
  t.truthy(combined, JSON.stringify(host.files));
  t.deepEqual(combined!.steps, ['compose/root-login', 'compose/password-auth', 'compose/sftp', 'compose/match', 'compose/no-pam', 'compose/mode']);
  for (const l of COMBINED.trimEnd().split('\n')) t.regex(combined!.diff, new RegExp(`^[+ ]${l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  t.regex(combined!.diff, /^-UsePAM yes$/m);
  t.is(readFileSync(join(dir, 'sshd_config'), 'utf8'), SEED, 'check changed nothing');
  const plain = await cairn(['check', '-i', inv, '--diff']);
  t.regex(plain.stdout, new RegExp(`\\[me\\] ${dir}/sshd_config: all changes \\(compose/root-login, .*compose/mode\\)`));
});

test('check on a fresh host: the edits of a file a command makes cannot be judged yet (skipped with the reason), exit 2', async (t) => {
  const { inv, dir } = project();
  const r = await cairn(['check', '-i', inv, '--json']);
  t.is(r.code, 2, r.stdout + r.stderr);
  const ops = jsonOf(r).hosts.me!.ops;
  t.is(ops.find((o) => o.id === 'seed')!.status, 'changed');
  const rl = ops.find((o) => o.id === 'root-login')!;
  t.is(rl.status, 'skipped');
  t.is(rl.reason, `not checkable before the changes above are applied: it reads what compose/seed (${dir}/sshd_config) changes`);
});

test('file then line on a new file, in one run: the line builds on the new file', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'cairn-file-line-'));
  const out = join(base, 'x.conf');
  mkdirSync(join(base, 'roles', 'fl'), { recursive: true });
  writeFileSync(join(base, 'package.json'), '{"type":"module"}');
  writeFileSync(
    join(base, 'roles', 'fl', 'index.ts'),
    `import { defineRole, file, line } from ${JSON.stringify(srcIndex)};
export default defineRole({ name: 'fl', steps: () => [
  file({ id: 'new', path: ${JSON.stringify(out)}, content: 'a = 1\\n' }),
  line({ id: 'add', path: ${JSON.stringify(out)}, line: 'b = 2' }),
  line({ id: 'again', path: ${JSON.stringify(out)}, line: 'b = 2' }),
] });
`,
  );
  writeFileSync(join(base, 'inventory.yml'), 'hosts:\n  me: { connection: local }\ngroups:\n  g: { hosts: [me], roles: [fl] }\n');
  const r = await cairn(['apply', '-i', join(base, 'inventory.yml'), '--json']);
  t.is(r.code, 0, r.stdout + r.stderr);
  // noops are reported when planned, changes once applied: compare by id
  t.deepEqual(Object.fromEntries(jsonOf(r).hosts.me!.ops.map((o) => [o.id, o.status])), { new: 'changed', add: 'changed', again: 'ok' });
  t.is(readFileSync(out, 'utf8'), 'a = 1\nb = 2\n');
  t.is(readdirSync(base).filter((f) => f.includes('cairn-bak')).length, 0, 'no backup of a file this run created');
});
