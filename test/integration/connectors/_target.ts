/**
 * Where the ssh integration tests connect: a real Alpine host with OpenSSH,
 * logged in as root with a key.
 *
 * 1. env CAIRN_TEST_SSH_HOST (+ CAIRN_TEST_SSH_PORT, CAIRN_TEST_SSH_KEY,
 *    CAIRN_TEST_SSH_KNOWN_HOSTS) if set;
 * 2. otherwise the test bed: loadFleet() from test/bed/fleet.ts (first
 *    x86_64 Alpine host).
 */
import { copyFileSync, chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sh } from '../../../src/shell/sh.ts';
import { SshConnector, type SshConnectorOptions } from '../../../src/connectors/ssh/connector.ts';
import { loadSshConfig, lookupSshConfig, type SshConfig } from '../../../src/connectors/ssh-config.ts';
import type { ConnectionSettings, HostSpec } from '../../../src/inventory/types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');

export interface SshTestTarget {
  /** Where the target came from, for messages. */
  source: string;
  /** IP address the controller connects to. */
  address: string;
  port: number;
  /** Private key (a private 0600 copy). */
  key: string;
  /** known_hosts that has the host's keys for address:port. */
  knownHosts: string;
  arch?: string;
}

/** ssh_config with nothing in it: tests must not depend on ~/.ssh/config. */
export const EMPTY_SSH_CONFIG: SshConfig = { root: { file: '(none)', sections: [] }, notes: [] };

function privateKeyCopy(file: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-it-key-'));
  const copy = join(dir, 'id');
  copyFileSync(file, copy);
  chmodSync(copy, 0o600);
  return copy;
}

async function toIp(host: string): Promise<string> {
  return isIP(host) ? host : (await lookup(host, { family: 4 })).address;
}

interface FleetHost {
  name: string;
  kind?: string;
  address: string;
  arch?: string;
  port?: number;
}
interface Fleet {
  sshConfig?: string;
  knownHosts?: string;
  key?: string;
  hosts: FleetHost[];
}

let cached: Promise<SshTestTarget> | undefined;

/** The ssh test target, or an error that says how to provide one. */
export function sshTestTarget(): Promise<SshTestTarget> {
  cached ??= findTarget();
  return cached;
}

async function findTarget(): Promise<SshTestTarget> {
  const env = process.env;
  if (env.CAIRN_TEST_SSH_HOST) {
    const key = env.CAIRN_TEST_SSH_KEY ?? join(repo, '../shared/testbed/alpine/keys/test-client-id_ed25519');
    if (!env.CAIRN_TEST_SSH_KNOWN_HOSTS) throw new Error('CAIRN_TEST_SSH_KNOWN_HOSTS must name a known_hosts file with the test host keys');
    return {
      source: 'env CAIRN_TEST_SSH_*',
      address: await toIp(env.CAIRN_TEST_SSH_HOST),
      port: Number(env.CAIRN_TEST_SSH_PORT ?? 22),
      key: privateKeyCopy(key),
      knownHosts: env.CAIRN_TEST_SSH_KNOWN_HOSTS,
    };
  }
  const fleetFile = join(repo, 'test/bed/fleet.ts');
  if (!existsSync(fleetFile)) {
    throw new Error(
      'no ssh test host: set CAIRN_TEST_SSH_HOST, CAIRN_TEST_SSH_PORT, CAIRN_TEST_SSH_KEY and CAIRN_TEST_SSH_KNOWN_HOSTS, or bring up the test bed (npm run bed -- up)',
    );
  }
  const mod = (await import(pathToFileURL(fleetFile).href)) as { loadFleet: () => Fleet | Promise<Fleet> };
  const fleet = await mod.loadFleet();
  const pick =
    fleet.hosts.find((h) => /alpine/i.test(`${h.kind ?? ''} ${h.name}`) && /x86_64|amd64/.test(h.arch ?? 'x86_64')) ??
    fleet.hosts.find((h) => /alpine/i.test(`${h.kind ?? ''} ${h.name}`));
  if (!pick) throw new Error(`the test bed has no Alpine host (hosts: ${fleet.hosts.map((h) => h.name).join(', ')})`);
  if (!fleet.key || !fleet.knownHosts) throw new Error('loadFleet() gave no key or knownHosts');
  const config = fleet.sshConfig ? loadSshConfig(fleet.sshConfig) : EMPTY_SSH_CONFIG;
  const fromConfig = lookupSshConfig(config, pick.name);
  const viaAddress = lookupSshConfig(config, pick.address);
  const hostname = fromConfig.hostname ?? viaAddress.hostname ?? pick.address;
  const target: SshTestTarget = {
    source: `test bed host ${pick.name}`,
    address: await toIp(hostname),
    port: pick.port ?? fromConfig.port ?? viaAddress.port ?? 22,
    key: privateKeyCopy(fleet.key),
    knownHosts: fleet.knownHosts,
  };
  if (pick.arch) target.arch = pick.arch;
  return target;
}

/**
 * Another host of the running test bed by kind ('debian', 'alpine-arm'), or
 * undefined without a bed (env mode) or without such a host.
 */
export async function bedHost(kind: string): Promise<(SshTestTarget & { name: string }) | undefined> {
  const fleetFile = join(repo, 'test/bed/fleet.ts');
  if (process.env.CAIRN_TEST_SSH_HOST || !existsSync(fleetFile)) return undefined;
  const mod = (await import(pathToFileURL(fleetFile).href)) as { loadFleet: () => Fleet | Promise<Fleet> };
  let fleet: Fleet;
  try {
    fleet = await mod.loadFleet();
  } catch {
    return undefined;
  }
  const h = fleet.hosts.find((x) => x.kind === kind);
  if (!h || !fleet.key || !fleet.knownHosts) return undefined;
  const t: SshTestTarget & { name: string } = {
    name: h.name,
    source: `test bed host ${h.name}`,
    address: await toIp(h.address),
    port: h.port ?? 22,
    key: privateKeyCopy(fleet.key),
    knownHosts: fleet.knownHosts,
  };
  if (h.arch) t.arch = h.arch;
  return t;
}

/** A HostSpec for the target (root, key login). */
export function hostSpec(t: SshTestTarget, over: Partial<HostSpec> = {}): HostSpec {
  return {
    name: 'it-target',
    connection: 'ssh',
    address: t.address,
    port: t.port,
    user: 'root',
    identity: [t.key],
    become: false,
    vars: {},
    groups: [],
    location: { file: 'test' },
    ...over,
  };
}

export function settings(t: SshTestTarget, over: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return { knownHosts: t.knownHosts, connectTimeoutMs: 10_000, commandTimeoutMs: 0, ...over };
}

/** Options that keep the controller's own ~/.ssh and agent out of the tests. */
export function isolated(over: SshConnectorOptions = {}): SshConnectorOptions {
  return { sshConfig: EMPTY_SSH_CONFIG, agent: null, home: mkdtempSync(join(tmpdir(), 'cairn-it-home-')), ...over };
}

/** A root connector to the target. */
export function rootConnector(t: SshTestTarget, over: Partial<HostSpec> = {}, opts: SshConnectorOptions = {}): SshConnector {
  return new SshConnector(hostSpec(t, over), settings(t), isolated(opts));
}

/** Run as root on the target and require success. */
export async function must(conn: SshConnector, cmd: ReturnType<typeof sh>, stdin?: string | Buffer): Promise<string> {
  const r = await conn.run(cmd, stdin !== undefined ? { stdin } : {});
  if (r.exitCode !== 0) throw new Error(`${cmd.display} failed (${r.exitCode}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The host's public host keys ("type base64" lines), read over a verified connection. */
export async function hostPublicKeys(conn: SshConnector): Promise<Map<string, string>> {
  const out = await must(conn, sh`cat /etc/ssh/ssh_host_*_key.pub`);
  const keys = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [type, b64] = line.trim().split(/\s+/);
    if (type && b64) keys.set(type, b64);
  }
  return keys;
}

/**
 * A second sshd on the target (same host keys and root key), on a free port of
 * the same address: without the SFTP subsystem, with TCP forwarding on. It is
 * stopped by the returned function (by its PID file).
 */
export async function startExtraSshd(conn: SshConnector, t: SshTestTarget, opts: { sftp: boolean }): Promise<{ port: number; stop: () => Promise<void> }> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 9000);
    const dir = `/tmp/cairn-it-sshd-${port}`;
    const config = [
      `Port ${port}`,
      `ListenAddress ${t.address}`,
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'HostKey /etc/ssh/ssh_host_ecdsa_key',
      'HostKey /etc/ssh/ssh_host_rsa_key',
      `PidFile ${dir}/sshd.pid`,
      'AuthorizedKeysFile .ssh/authorized_keys',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'AllowTcpForwarding yes',
      ...(opts.sftp ? ['Subsystem sftp internal-sftp'] : []),
      '',
    ].join('\n');
    await must(conn, sh`mkdir -p ${dir} && cat > ${dir}/sshd_config`, config);
    const r = await conn.run(sh`/usr/sbin/sshd -f ${dir}/sshd_config -E ${dir}/log && sleep 0.2 && test -s ${dir}/sshd.pid`);
    if (r.exitCode === 0) {
      return {
        port,
        stop: async () => {
          await conn.run(sh`kill "$(cat ${dir}/sshd.pid)" 2>/dev/null; rm -rf ${dir}`);
        },
      };
    }
    await conn.run(sh`rm -rf ${dir}`);
  }
  throw new Error('could not start a second sshd on the test host');
}

/** A known_hosts file with the target's real keys recorded under these [addr]:port names. */
export function knownHostsText(keys: Map<string, string>, names: string[], only?: string): string {
  const lines: string[] = [];
  for (const [type, b64] of keys) if (!only || type === only) for (const n of names) lines.push(`${n} ${type} ${b64}`);
  return lines.join('\n') + '\n';
}

export function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
