// Issue #3 acceptance on real hosts: an unreachable host does not stop the others;
// a host key mismatch is refused; secrets never appear in output; become works.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf } from '../../helpers/cli.ts';
import { loadFleet, sshRun } from '../../bed/fleet.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));
let claim: Claim;
test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
});
test.after.always(() => claim?.release());

/** A role writing one file whose content holds a secret var, in a fresh roles dir. */
function secretRolesDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-roles-'));
  mkdirSync(join(dir, 'secretfile', 'templates'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'secretfile', 'templates', 'creds.hbs'), 'user=app\ntoken={{app_token}}\n');
  writeFileSync(
    join(dir, 'secretfile', 'index.ts'),
    `import { defineRole, file, command, sh } from ${JSON.stringify(srcIndex)};
export default defineRole({ name: 'secretfile', steps: (ctx) => [
  file({ id: 'creds', path: '/root/cairn-creds', mode: '0600', content: ctx.template('creds.hbs') }),
  command({ id: 'use', run: sh\`echo using \${ctx.vars.app_token} >/dev/null\`, unless: sh\`test -f /root/cairn-creds-used && grep -q \${ctx.vars.app_token} /root/cairn-creds\`, }),
] });
`,
  );
  return dir;
}

test.serial('one unreachable host: the others converge; recap and exit code say so', async (t) => {
  const fleet = loadFleet();
  const names = claim.hosts.map((h) => h.name);
  const inv = fleetInventory({ hosts: names, groups: { g: { hosts: [...names, 'ghost'], roles: ['motd'] } }, rolesDir: fileURLToPath(new URL('../../../inventory/roles/', import.meta.url)), vars: { site_name: 'x' } });
  // add a host where nobody answers
  const doc = parse(readFileSync(inv.file, 'utf8'));
  doc.hosts.ghost = { address: fleet.unusedAddress, user: 'root', identity: fleet.key };
  doc.connection = { ...(doc.connection ?? {}), connect_timeout: '3s' };
  writeFileSync(inv.file, stringify(doc));
  const r = await cairn(['apply', '-i', inv.file]);
  t.is(r.code, 1);
  t.regex(r.stdout, /\[ghost\] UNREACHABLE/);
  t.regex(r.stdout, /RECAP/);
  t.regex(r.stdout, /ghost\s+0\s+0\s+0\s+0\s+yes/);
  for (const n of names) t.regex(r.stdout, new RegExp(`${n}\\s+\\d+\\s+\\d+\\s+0\\s+0\\s+no`));
  const j = jsonOf(await cairn(['apply', '-i', inv.file, '--json']));
  t.true(j.hosts.ghost!.unreachable);
  for (const n of names) t.is(j.hosts[n]!.changed, 0);
});

test.serial('a host key mismatch is refused, an unknown key is refused unless accepted, then recorded', async (t) => {
  const h = claim.hosts[0]!;
  const fleet = loadFleet();
  const inv = fleetInventory({ hosts: [h.name], groups: {} });
  const doc = parse(readFileSync(inv.file, 'utf8'));
  // a known_hosts that records ANOTHER host's key for this address
  const other = fleet.hosts.find((x) => x.name !== h.name)!;
  const lines = readFileSync(fleet.knownHosts, 'utf8').split('\n').filter((l) => l.trim());
  const otherLine = lines.find((l) => l.split(' ')[0]!.split(',').includes(other.address));
  t.truthy(otherLine, 'the bed wrote a known_hosts line per host');
  const wrong = join(inv.dir, 'wrong_known_hosts');
  writeFileSync(wrong, otherLine!.replace(/^\S+/, h.address) + '\n');
  doc.connection = { ...(doc.connection ?? {}), known_hosts: wrong };
  writeFileSync(inv.file, stringify(doc));
  const mismatch = await cairn(['facts', '-i', inv.file]);
  t.is(mismatch.code, 1);
  t.regex(mismatch.stdout + mismatch.stderr, /mismatch|does not match|changed/i);
  t.regex(mismatch.stdout + mismatch.stderr, /wrong_known_hosts/);

  const empty = join(inv.dir, 'empty_known_hosts');
  writeFileSync(empty, '');
  doc.connection.known_hosts = empty;
  writeFileSync(inv.file, stringify(doc));
  const unknown = await cairn(['facts', '-i', inv.file]);
  t.is(unknown.code, 1);
  t.regex(unknown.stdout + unknown.stderr, /unknown|not known|accept-new-host-keys/i);
  const accepted = await cairn(['facts', '-i', inv.file, '--accept-new-host-keys']);
  t.is(accepted.code, 0, accepted.stdout + accepted.stderr);
  // plain, or hashed when the controller's ssh config says HashKnownHosts yes (Debian's /etc/ssh/ssh_config does): OpenSSH finds it either way
  t.regex(execFileSync('ssh-keygen', ['-F', h.address, '-f', empty], { encoding: 'utf8' }), /found: line 1/);
  const again = await cairn(['facts', '-i', inv.file]);
  t.is(again.code, 0, 'the recorded key is trusted next time');
});

test.serial('secrets never appear in plain output, diffs, JSON or errors', async (t) => {
  const secret = 'TopSecret-9f2c71-value';
  const names = claim.hosts.map((h) => h.name);
  const inv = fleetInventory({ hosts: names, groups: { g: { hosts: names, roles: ['secretfile'] } }, rolesDir: secretRolesDir(), extraYaml: `` });
  const doc = parse(readFileSync(inv.file, 'utf8'));
  writeFileSync(inv.file, stringify(doc).replace(/^vars: \{\}$/m, `vars:\n  app_token: !secret "${secret}"`));
  t.regex(readFileSync(inv.file, 'utf8'), /!secret/);
  const outputs = [
    await cairn(['check', '-i', inv.file, '--diff']),
    await cairn(['apply', '-i', inv.file, '--diff']),
    await cairn(['apply', '-i', inv.file, '--json', '--diff']),
    await cairn(['facts', '-i', inv.file]),
  ];
  await sshRun(claim.hosts[0]!, 'echo "user=app\ntoken=other" > /root/cairn-creds');
  outputs.push(await cairn(['check', '-i', inv.file, '--diff', '--json']));
  outputs.push(await cairn(['apply', '-i', inv.file, '--diff', '-e', `extra=${secret}`]));
  for (const o of outputs) {
    t.false((o.stdout + o.stderr).includes(secret), o.stdout + o.stderr);
  }
  t.is(outputs[1]!.code, 0, outputs[1]!.stdout + outputs[1]!.stderr);
  const onHost = await sshRun(claim.hosts[1]!, 'cat /root/cairn-creds');
  t.regex(onHost.stdout, new RegExp(`token=${secret}`), 'the host gets the real value');
});

test.serial('become: a non-root user reaches root with doas (Alpine) or sudo (Debian)', async (t) => {
  const names = claim.hosts.map((h) => h.name);
  const inv = fleetInventory({
    hosts: names,
    groups: { g: { hosts: names, roles: ['motd'] } },
    rolesDir: fileURLToPath(new URL('../../../inventory/roles/', import.meta.url)),
    vars: { site_name: 'become test' },
    asTester: true,
  });
  for (const h of claim.hosts) t.like(parse(readFileSync(inv.file, 'utf8')).hosts[h.name], { user: 'tester', become: h.become });
  const r = await cairn(['apply', '-i', inv.file, '--json']);
  t.is(r.code, 0, r.stdout + r.stderr);
  for (const h of claim.hosts) {
    const owner = await sshRun(h, 'stat -c %U /etc/motd; grep -c "become test" /etc/motd');
    t.deepEqual(owner.stdout.trim().split('\n'), ['root', '1']);
  }
});
