import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { cairn, jsonOf, type CliResult } from '../../helpers/cli.ts';
import { loadFleet, sshRun, type BedHost, type Fleet } from '../../bed/fleet.ts';
import { sh } from '../../../src/shell/sh.ts';

/**
 * OpenSSH client features end to end, on two Alpine bed hosts: one is the
 * bastion (a second sshd on it allows TCP forwarding, which Alpine's own
 * sshd_config does not), the other the target, reached only through it.
 * Every case is a user ssh config (resolved by `ssh -G`, so the OpenSSH client
 * must be installed on the controller, as it is wherever the bed runs) and an
 * inventory that names the target by its ssh config alias:
 *
 * - ProxyCommand `ssh -W %h:%p` through the bastion,
 * - ProxyJump through the bastion,
 * - a `Match host` block setting User and IdentityFile (nothing in the inventory),
 * - a hashed known_hosts (ssh-keygen -H), and a new key recorded into it hashed.
 *
 * cairn facts, apply and exec must work through each.
 */

const rolesDir = fileURLToPath(new URL('../../../inventory/roles/', import.meta.url));

let claim: Claim;
let fleet: Fleet;
let bastion: BedHost;
let target: BedHost;
let jumpPort: number;
let dir: string;

const run = async (h: BedHost, cmd: ReturnType<typeof sh>): Promise<string> => {
  const r = await sshRun(h, cmd.text);
  if (r.code !== 0) throw new Error(`${h.name}: ${cmd.display} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
};

/** The bed's known_hosts line(s) of a host, as `<name> <type> <key>` for the given names. */
function knownLines(h: BedHost, names: string[]): string {
  const lines = readFileSync(fleet.knownHosts, 'utf8').split('\n').filter((l) => l.split(' ')[0]!.split(',').includes(h.address));
  if (lines.length === 0) throw new Error(`the bed known_hosts ${fleet.knownHosts} has no line for ${h.name} (${h.address})`);
  return lines.flatMap((l) => names.map((n) => `${n} ${l.split(' ').slice(1).join(' ')}`)).join('\n') + '\n';
}

test.before(async () => {
  claim = await claimHosts({ alpine: 2 });
  fleet = loadFleet();
  [bastion, target] = claim.hosts as [BedHost, BedHost];
  dir = mkdtempSync(join(tmpdir(), 'cairn-it-openssh-'));
  // a second sshd on the bastion, with TCP forwarding (for ssh -W and ProxyJump)
  for (let attempt = 0; ; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 9000);
    const d = `/tmp/cairn-it-openssh-sshd-${port}`;
    const config = [
      `Port ${port}`,
      `ListenAddress ${bastion.address}`,
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'HostKey /etc/ssh/ssh_host_ecdsa_key',
      'HostKey /etc/ssh/ssh_host_rsa_key',
      `PidFile ${d}/sshd.pid`,
      'AuthorizedKeysFile .ssh/authorized_keys',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'AllowTcpForwarding yes',
      '',
    ].join('\n');
    const r = await sshRun(bastion, sh`mkdir -p ${d} && printf %s ${config} > ${d}/sshd_config && /usr/sbin/sshd -f ${d}/sshd_config -E ${d}/log && sleep 0.2 && test -s ${d}/sshd.pid`.text);
    if (r.code === 0) {
      jumpPort = port;
      break;
    }
    if (attempt >= 7) throw new Error(`could not start a second sshd on ${bastion.name}: ${r.stderr}`);
  }
});

test.after.always(async () => {
  if (bastion && jumpPort) await sshRun(bastion, sh`kill "$(cat ${`/tmp/cairn-it-openssh-sshd-${jumpPort}/sshd.pid`})" 2>/dev/null; rm -rf ${`/tmp/cairn-it-openssh-sshd-${jumpPort}`}`.text).catch(() => undefined);
  claim?.release();
});

/** known_hosts with the bastion (both sshds) and, unless `withoutTarget`, the target; hashed with ssh-keygen -H when asked. */
function knownHosts(name: string, o: { hashed: boolean; withoutTarget?: boolean }): string {
  const file = join(dir, name);
  writeFileSync(file, knownLines(bastion, [bastion.address, `[${bastion.address}]:${jumpPort}`]) + (o.withoutTarget ? '' : knownLines(target, [target.address])));
  if (o.hashed) execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
  return file;
}

/** An ssh config file and an inventory naming the target by `alias`, in its own directory; the inventory sets no user and no key. */
function setup(name: string, sshConfig: string, kh: string): string {
  const d = mkdtempSync(join(dir, `${name}-`));
  symlinkSync(rolesDir, join(d, 'roles'));
  writeFileSync(join(d, 'ssh_config'), sshConfig);
  const inv = join(d, 'inventory.yml');
  writeFileSync(
    inv,
    stringify({
      connection: { known_hosts: kh, ssh_config: join(d, 'ssh_config') },
      vars: { site_name: 'openssh-test' },
      hosts: { tgt: { address: 'target' } },
      groups: { demo: { hosts: ['tgt'], roles: ['motd'] } },
    }),
  );
  return inv;
}

/** The Match block: User and IdentityFile for the target (and the bastion) by address, after HostName. */
const matchBlock = (): string => `Match host ${target.address},${bastion.address}\n  User root\n  IdentityFile ${fleet.key}\n  IdentitiesOnly yes\n`;

const proxyCommandConfig = (kh: string): string =>
  `Host target\n  HostName ${target.address}\n` +
  `  ProxyCommand ssh -F none -i ${fleet.key} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${kh} -o StrictHostKeyChecking=yes -p ${jumpPort} -W %h:%p root@${bastion.address}\n` +
  matchBlock();

const proxyJumpConfig = (): string => `Host target\n  HostName ${target.address}\n  ProxyJump root@${bastion.address}:${jumpPort}\n` + matchBlock();

const detail = (r: CliResult): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

/** facts, apply (motd) and exec through the setup; the target proves it was reached from the bastion. */
async function worksThrough(t: import('ava').ExecutionContext, inv: string): Promise<void> {
  const facts = await cairn(['facts', '-i', inv, '--only', 'hostname,os']);
  t.is(facts.code, 0, detail(facts));
  t.truthy(JSON.parse(facts.stdout).tgt.facts.hostname, facts.stdout);
  const apply = await cairn(['apply', '-i', inv, '--json']);
  t.is(apply.code, 0, detail(apply));
  t.false(jsonOf(apply).hosts.tgt!.unreachable);
  const exec = await cairn(['exec', '-i', inv, 'tgt', '--', 'echo "$SSH_CONNECTION"', '&&', 'cat', '/etc/motd']);
  t.is(exec.code, 0, detail(exec));
  // the target's sshd saw the connection come from the bastion
  t.regex(exec.stdout, new RegExp(`^tgt > ${bastion.address.replace(/\./g, '\\.')} \\d+ ${target.address.replace(/\./g, '\\.')} 22$`, 'm'));
  t.regex(exec.stdout, /^exec: 1 host: 1 ok, 0 failed, 0 unreachable$/m);
  const failing = await cairn(['exec', '-i', inv, 'tgt', '--', 'exit 3']);
  t.is(failing.code, 1, detail(failing));
}

test.serial('ProxyCommand ssh -W through the bastion, User/IdentityFile from a Match block, plain known_hosts', async (t) => {
  const kh = knownHosts('kh-plain', { hashed: false });
  await worksThrough(t, setup('proxycommand', proxyCommandConfig(kh), kh));
});

test.serial('ProxyJump through the bastion, User/IdentityFile from a Match block, hashed known_hosts', async (t) => {
  const kh = knownHosts('kh-hashed-jump', { hashed: true });
  t.notRegex(readFileSync(kh, 'utf8'), new RegExp(target.address.replace(/\./g, '\\.')), 'no plain name left');
  await worksThrough(t, setup('proxyjump', proxyJumpConfig(), kh));
});

test.serial('ProxyCommand with a hashed known_hosts', async (t) => {
  const kh = knownHosts('kh-hashed-command', { hashed: true });
  await worksThrough(t, setup('proxycommand-hashed', proxyCommandConfig(kh), kh));
});

test.serial('a new host key recorded into a hashed known_hosts is hashed, and OpenSSH finds it', async (t) => {
  const kh = knownHosts('kh-new', { hashed: true, withoutTarget: true });
  const before = readFileSync(kh, 'utf8').trimEnd().split('\n').length;
  const inv = setup('record', proxyCommandConfig(kh), kh);
  const refused = await cairn(['facts', '-i', inv]);
  t.is(refused.code, 1, detail(refused));
  t.regex(refused.stdout, /host key for .* is unknown/);
  const accepted = await cairn(['facts', '-i', inv, '--accept-new-host-keys']);
  t.is(accepted.code, 0, detail(accepted));
  const lines = readFileSync(kh, 'utf8').trimEnd().split('\n');
  t.true(lines.length > before, 'a line was added');
  for (const l of lines.slice(before)) t.regex(l, /^\|1\|[^| ]+\|[^| ]+ \S+ \S+$/, `recorded hashed: ${l}`);
  t.notRegex(readFileSync(kh, 'utf8'), new RegExp(target.address.replace(/\./g, '\\.')));
  const found = execFileSync('ssh-keygen', ['-F', target.address, '-f', kh], { encoding: 'utf8' });
  t.regex(found, new RegExp(`Host ${target.address.replace(/\./g, '\\.')} found: line ${before + 1}`));
  // and now it is known: strict checking passes
  const again = await cairn(['exec', '-i', inv, 'tgt', '--', 'true']);
  t.is(again.code, 0, detail(again));
});

test.serial('HashKnownHosts yes in the ssh config: a key recorded into a plain file is hashed too', async (t) => {
  const kh = knownHosts('kh-hash-option', { hashed: false, withoutTarget: true });
  const inv = setup('hash-option', `${proxyCommandConfig(kh)}Host *\n  HashKnownHosts yes\n`, kh);
  const r = await cairn(['exec', '-i', inv, 'tgt', '--accept-new-host-keys', '--', 'true']);
  t.is(r.code, 0, detail(r));
  const last = readFileSync(kh, 'utf8').trimEnd().split('\n').at(-1)!;
  t.regex(last, /^\|1\|/);
});
