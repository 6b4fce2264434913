/**
 * The bed is not faked: ssh to an address of the fleet subnet where no host lives
 * fails, and a real host is refused when its key is not the one in known_hosts.
 * REQUIRES a running fleet (fails, never skips).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFleet, type Fleet } from '../../bed/fleet.ts';

let fleet: Fleet | undefined;
let loadError: Error | undefined;
try {
  fleet = loadFleet();
} catch (e) {
  loadError = e as Error;
}

function ssh(args: string[]): Promise<{ code: number; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=4', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr, ms: Date.now() - t0 });
    });
  });
}

if (!fleet) {
  test('the test bed fleet is up', (t) => {
    t.fail(loadError?.message ?? 'loadFleet() failed');
  });
} else {
  const f = fleet;
  const first = f.hosts[0]!;
  const common = ['-i', f.key, '-o', 'IdentitiesOnly=yes', '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes'];

  test('a real host answers with the fleet files (control)', async (t) => {
    const r = await ssh([...common, '-o', `UserKnownHostsFile=${f.knownHosts}`, `root@${first.address}`, 'true']);
    t.is(r.code, 0, r.stderr);
  });

  test(`ssh to ${f.unusedAddress} (fleet subnet, no host) fails`, async (t) => {
    t.false(f.hosts.some((h) => h.address === f.unusedAddress));
    const r = await ssh([...common, '-o', `UserKnownHostsFile=${f.knownHosts}`, `root@${f.unusedAddress}`, 'true']);
    t.not(r.code, 0);
    t.is(r.code, 255, r.stderr);
    t.regex(r.stderr, /No route to host|timed out|Connection refused|Host is unreachable/i);
    t.log(`exit ${r.code} after ${r.ms} ms: ${r.stderr.trim()}`);
  });

  test('a real host is refused when known_hosts has no key for it (strict checking)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-bed-kh-'));
    const empty = join(dir, 'known_hosts');
    writeFileSync(empty, '');
    const r = await ssh([...common, '-o', `UserKnownHostsFile=${empty}`, `root@${first.address}`, 'true']);
    t.is(r.code, 255);
    t.regex(r.stderr, /Host key verification failed/);
  });

  test("a real host is refused when known_hosts has another host's key", async (t) => {
    const other = f.hosts.find((h) => h.name !== first.name);
    if (!other) return t.pass('one host only: nothing to swap');
    const line = readFileSync(f.knownHosts, 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[0]!.split(',').includes(other.address))!;
    const dir = mkdtempSync(join(tmpdir(), 'cairn-bed-kh-'));
    const wrong = join(dir, 'known_hosts');
    writeFileSync(wrong, `${first.address} ${line.split(' ').slice(1).join(' ')}\n`);
    const r = await ssh([...common, '-o', `UserKnownHostsFile=${wrong}`, `root@${first.address}`, 'true']);
    t.is(r.code, 255);
    t.regex(r.stderr, /HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });
}
