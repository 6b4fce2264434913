// --limit, --tags, --serial, --forks and the TTY progress renderer, on real bed hosts.
import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory, type TestInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf } from '../../helpers/cli.ts';

const rolesDir = fileURLToPath(new URL('../../../inventory/roles/', import.meta.url));
const bin = fileURLToPath(new URL('../../../src/cli/bin.js', import.meta.url));
let claim: Claim;
let inv: TestInventory;

test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
  const names = claim.hosts.map((h) => h.name);
  inv = fleetInventory({
    hosts: names,
    groups: { one: { hosts: [names[0]!] }, demo: { hosts: names, roles: ['motd', 'tuning'] } },
    vars: { site_name: 'flags test' },
    rolesDir,
  });
});
test.after.always(() => claim?.release());

/** `cairn apply -i file` on a real pseudo-terminal (`script`): its exit code and everything it drew. */
function applyOnTty(file: string): Promise<{ code: number; text: string }> {
  return new Promise((resolve) => {
    const p = spawn('script', ['-qefc', `stty cols 160 rows 50; ${process.execPath} ${bin} apply -i ${file}`, '/dev/null'], {
      env: { ...process.env, CI: '', TERM: 'xterm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    p.stdout.on('data', (d) => (text += d));
    p.stderr.on('data', (d) => (text += d));
    p.on('close', (code) => resolve({ code: code ?? 1, text }));
  });
}

test.serial('--limit selects hosts by group and exclusion', async (t) => {
  const [a, b] = claim.hosts.map((h) => h.name);
  const r = jsonOf(await cairn(['check', '-i', inv.file, '--json', '--limit', 'one']));
  t.deepEqual(Object.keys(r.hosts), [a]);
  const r2 = jsonOf(await cairn(['check', '-i', inv.file, '--json', '--limit', `all,!${a}`]));
  t.deepEqual(Object.keys(r2.hosts), [b]);
  const bad = await cairn(['check', '-i', inv.file, '--limit', 'nosuchhost']);
  t.is(bad.code, 64);
  t.regex(bad.stderr, /nosuchhost/);
});

test.serial('--tags runs only the named roles or steps', async (t) => {
  const r = jsonOf(await cairn(['apply', '-i', inv.file, '--json', '--tags', 'tuning']));
  for (const h of Object.values(r.hosts)) t.deepEqual([...new Set(h.ops.map((o) => o.role))], ['tuning']);
  const r2 = jsonOf(await cairn(['apply', '-i', inv.file, '--json', '--tags', 'motd/motd']));
  for (const h of Object.values(r2.hosts)) t.deepEqual(h.ops.map((o) => `${o.role}/${o.id}`), ['motd/motd']);
});

test.serial('--serial 1 finishes one host before the next starts; --forks 1 too', async (t) => {
  for (const flags of [['--serial', '1'], ['--forks', '1']]) {
    const r = await cairn(['apply', '-i', inv.file, ...flags]);
    t.is(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.split('\n');
    const [a, b] = claim.hosts.map((h) => h.name);
    const lastA = Math.max(...lines.map((l, i) => (l.startsWith(`[${a}]`) ? i : -1)));
    const firstB = lines.findIndex((l) => l.startsWith(`[${b}]`));
    t.true(firstB > lastA, `${flags.join(' ')}: ${b} started before ${a} finished\n${r.stdout}`);
  }
});

test.serial('on a TTY the listr2 renderer draws hosts and roles, then the recap', async (t) => {
  const out = await applyOnTty(inv.file);
  t.is(out.code, 0, out.text);
  for (const h of claim.hosts) t.true(out.text.includes(h.name));
  t.regex(out.text, /motd: \d+ ok, \d+ changed/);
  t.regex(out.text, /RECAP/);
});

test.serial('on a TTY a big upload shows its progress under its role', async (t) => {
  t.timeout(3 * 60_000);
  const { makePayload, RESET_SCRIPT } = await import('../../bench/workload.ts');
  const { sshRun } = await import('../../bed/fleet.ts');
  const { rmSync } = await import('node:fs');
  const payload = makePayload(120 * 1024 * 1024);
  const h = claim.hosts[0]!;
  try {
    await sshRun(h, RESET_SCRIPT);
    const big = fleetInventory({ hosts: [h.name], groups: { g: { hosts: [h.name], roles: ['bootstrap'] } }, vars: { bench_payload: payload }, rolesDir: fileURLToPath(new URL('../../bench/roles', import.meta.url)) });
    const out = await applyOnTty(big.file);
    t.is(out.code, 0, out.text.slice(-3000));
    t.regex(out.text, /sending 2 files: \d+\.\d of 120\.\d MiB \(\d+%\)/);
  } finally {
    rmSync(payload, { recursive: true, force: true });
    await sshRun(h, RESET_SCRIPT);
  }
});
