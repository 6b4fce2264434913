/**
 * The test bed's API for tests: which fleet is up, where its inventory,
 * ssh_config, known_hosts and key are, and how to ssh to a host.
 *
 *   import { loadFleet, sshArgs, sshRun } from '../../bed/fleet.ts';
 *   const fleet = loadFleet();                 // env CAIRN_BED_FLEET, default 'default'
 *   const [cmd, ...args] = sshArgs(fleet.hosts[0]!);  // ssh -F <ssh_config> alp1
 *
 * Bring a fleet up with `npm run bed -- up [--fleet NAME]`.
 */
import { spawn } from 'node:child_process';
import type { Arch, BecomeMethod, Init, Kind } from './config.ts';
import { DEFAULT_FLEET, UNUSED_OCTET } from './config.ts';
import { readState } from './state.ts';

export type { Arch, BecomeMethod, Init, Kind } from './config.ts';

export interface BedHost {
  /** Inventory host name and ssh_config Host alias (alp1, deb1, arm1, debarm1, ...). */
  name: string;
  kind: Kind;
  /** IPv4 address in the fleet subnet 10.231.<n>.0/24. */
  address: string;
  /** `uname -m` of the host: x86_64 or aarch64. */
  arch: Arch;
  port: number;
  /** ssh login user of the inventory (root). */
  user: string;
  init: Init;
  /** How the non-root user `tester` (same key) becomes root: doas, sudo, or none. */
  become: BecomeMethod;
  /** The fleet's ssh_config (so sshArgs(host) needs nothing else). */
  sshConfig: string;
  /** What went wrong at boot and what the bed did about it (a retried boot, units started again). */
  bootNotes: string[];
}

export interface Fleet {
  /** Fleet name. */
  name: string;
  /** State dir (/var/lib/cairn-bed/<fleet>). */
  dir: string;
  /** cairn inventory file (inventory.yml). */
  inventory: string;
  /** OpenSSH client config with one Host block per host. */
  sshConfig: string;
  knownHosts: string;
  /** Private ed25519 client key (mode 600). */
  key: string;
  /** The fleet subnet, e.g. 10.231.0.0/24. */
  subnet: string;
  /** An address in the subnet where no host ever is (for "unreachable" tests). */
  unusedAddress: string;
  /** Started with --s6: s6-svscan and the toys6 service run on the alpine (x86_64) hosts. */
  s6: boolean;
  hosts: BedHost[];
}

/** The running fleet, or an error that says how to start it. */
export function loadFleet(fleet: string = process.env.CAIRN_BED_FLEET ?? DEFAULT_FLEET): Fleet {
  const s = readState(fleet);
  if (!s || s.status !== 'up') {
    const why = s ? ` (state: ${s.status})` : '';
    throw new Error(`fleet ${fleet} is not up${why}: run npm run bed -- up${fleet === DEFAULT_FLEET ? '' : ` --fleet ${fleet}`}`);
  }
  const prefix = s.subnet.split('.').slice(0, 3).join('.');
  return {
    name: s.fleet,
    dir: s.dir,
    inventory: s.files.inventory,
    sshConfig: s.files.sshConfig,
    knownHosts: s.files.knownHosts,
    key: s.files.key,
    subnet: s.subnet,
    unusedAddress: `${prefix}.${UNUSED_OCTET}`,
    s6: s.s6,
    hosts: s.hosts.map((h) => ({
      name: h.name,
      kind: h.kind,
      address: h.address,
      arch: h.arch,
      port: 22,
      user: 'root',
      init: h.init,
      become: h.become,
      sshConfig: s.files.sshConfig,
      bootNotes: [...(h.boots ? [`boot ${h.boots}: the first boot did not reach ssh in time`] : []), ...(h.bootNotes ?? [])],
    })),
  };
}

/** argv for `ssh -F <ssh_config> <name>`; append the remote command. `user` overrides root (e.g. 'tester'). */
export function sshArgs(host: Pick<BedHost, 'name' | 'sshConfig'>, opts: { user?: string } = {}): string[] {
  return ['ssh', '-F', host.sshConfig, ...(opts.user ? ['-l', opts.user] : []), host.name];
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run one remote command line over real OpenSSH (`ssh -F ssh_config name -- command`),
 * stdin closed. Resolves with exit code and output; never throws on a non-zero exit.
 */
export function sshRun(
  host: Pick<BedHost, 'name' | 'sshConfig'>,
  command: string,
  opts: { user?: string; timeoutMs?: number } = {},
): Promise<SshResult> {
  const [cmd, ...args] = sshArgs(host, opts);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...args, '--', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[sshRun: timeout after ${opts.timeoutMs} ms, killed]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 255), stdout, stderr });
    });
  });
}
