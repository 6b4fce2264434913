import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runHost, type HostJob } from '../../../src/engine/host-run.ts';
import { UnreachableError } from '../../../src/core/errors.ts';
import { change, upload } from '../../../src/operations/operation.ts';
import { sh } from '../../../src/shell/sh.ts';
import { stdinBytes } from '../../helpers/stdin.ts';
import type { Connector } from '../../../src/connectors/connector.ts';
import type { HostSpec, Inventory } from '../../../src/inventory/types.ts';
import type { LoadedRole } from '../../../src/roles/loader.ts';
import type { RunEvent } from '../../../src/engine/events.ts';

// A connection lost while a step is applied: the host is unreachable, and the summary says on which step.
// The uploads of queued changes travel as a tar stream on the batch's stdin (change-batch.ts).

const facts = readFileSync(new URL('../../fixtures/facts/alpine319-amd64-openrc-booted.txt', import.meta.url), 'utf8');
const host: HostSpec = { name: 'web1', connection: 'ssh', address: '10.0.0.1', become: false, vars: {}, groups: [], location: { file: 'inv.yml' } };

/** Facts first, then every command through a real shell; `lost`: the command that carries the uploads (stdin) loses the connection. */
function connector(o: { lost?: UnreachableError; path?: string } = {}): Connector {
  let calls = 0;
  return {
    host: 'web1',
    kind: 'ssh',
    connect: async () => undefined,
    run: async (cmd, ro) => {
      if (++calls === 1) return { command: cmd.display, exitCode: 0, stdout: facts, stderr: '', durationMs: 0 };
      if (ro?.stdin !== undefined && o.lost) throw o.lost;
      const input = ro?.stdin === undefined ? undefined : stdinBytes(ro.stdin);
      if (input && ro?.onStdinProgress) for (let sent = 0; sent < input.length; ) ro.onStdinProgress((sent = Math.min(input.length, sent + 1024 * 1024)), input.length);
      const env = o.path ? { ...process.env, PATH: `${o.path}:${process.env.PATH}` } : process.env;
      const r = spawnSync('/bin/sh', ['-c', cmd.text], { encoding: 'utf8', env, ...(input !== undefined ? { input } : {}) });
      return { command: cmd.display, exitCode: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, durationMs: 0 };
    },
    upload: async () => {
      throw new Error('uploads travel in the batch, not through upload()');
    },
    download: async () => undefined,
    close: async () => undefined,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'cairn-host-lost-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const role: LoadedRole = {
  dir: '/nowhere',
  file: '/nowhere/index.ts',
  builtin: false,
  def: {
    name: 'nomad',
    steps: () => [
      { kind: 'file', id: 'config', probe: () => undefined, plan: () => change('write nomad.hcl', [sh`mkdir -p ${`${dir}/etc`}`, upload(`${dir}/etc/nomad.hcl`, Buffer.from('x'), 'nomad.hcl', 0o640)]) },
      { kind: 'file', id: 'after', probe: () => undefined, plan: () => change('write after', [upload(`${dir}/etc/after`, Buffer.from('y'), 'after')]) },
    ],
  },
};


const events: RunEvent[] = [];
function run(conn: Connector, r: LoadedRole = role) {
  events.length = 0;
  const opts = { mode: 'apply' as const, bake: false, emit: (e: RunEvent) => void events.push(e), roleLimits: new Map(), render: () => '', commandTimeoutMs: 0 };
  const job: HostJob = { host, roles: [r], varsFor: () => ({}), hostsWithRole: () => [host], inventory: {} as Inventory };
  return runHost(job, conn, opts);
}

test.serial('a connection lost while the uploads are sent makes the host unreachable, naming the steps', async (t) => {
  const lost = new UnreachableError('web1', 'the SSH connection to 10.0.0.1:22 was lost while a command ran (read ECONNRESET)');
  const summary = await run(connector({ lost }));
  t.true(summary.unreachable);
  t.is(summary.failed, 0);
  t.is(summary.error, `connection lost while applying nomad/config, nomad/after (with 2 files, 2 bytes, on stdin): ${lost.message}`);
  t.deepEqual(summary.ops, []);
});

test.serial('the tar stream failing on the host is a failed step (the first that uploads), the rest not run', async (t) => {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'tar'), '#!/bin/sh\necho "tar: short read" >&2\nexit 2\n', { mode: 0o755 });
  const summary = await run(connector({ path: bin }));
  t.false(summary.unreachable);
  t.is(summary.failed, 1);
  t.deepEqual(
    summary.ops.map((o) => `${o.role}/${o.id} ${o.status}`),
    ['nomad/config failed', 'nomad/after skipped'],
  );
  t.regex(summary.ops[0]!.error ?? '', /sending 2 file\(s\) \(2 bytes\) as a tar stream failed \(exit 2\): tar: short read/);
  t.false(existsSync(`${dir}/etc/nomad.hcl`));
  t.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.cairn-stage')), [], 'the stage directory is removed');
});

test.serial('uploads reach their paths through the stage, in one round trip, with their modes', async (t) => {
  const summary = await run(connector());
  t.is(summary.failed, 0, JSON.stringify(summary.ops));
  t.is(summary.changed, 2);
  t.is(summary.roundTrips, 2, 'facts, then both changes and their files');
  t.is(readFileSync(`${dir}/etc/nomad.hcl`, 'utf8'), 'x');
  t.is(statSync(`${dir}/etc/nomad.hcl`).mode & 0o777, 0o640);
  t.is(readFileSync(`${dir}/etc/after`, 'utf8'), 'y');
  t.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.cairn-stage')), [], 'the stage directory is removed');
});

test.serial('a tar stream of 4 MiB or more reports its progress per role (shown on a TTY); a small one does not', async (t) => {
  const big: LoadedRole = {
    ...role,
    def: {
      name: 'big',
      steps: () => [
        { kind: 'file', id: 'blob', probe: () => undefined, plan: () => change('write blob', [sh`mkdir -p ${`${dir}/big`}`, upload(`${dir}/big/blob`, Buffer.alloc(5 * 1024 * 1024, 3), 'blob')]) },
      ],
    },
  };
  const summary = await run(connector(), big);
  t.is(summary.failed, 0, JSON.stringify(summary.ops));
  const progress = events.flatMap((e) => (e.type === 'host:progress' ? [e] : []));
  t.true(progress.length >= 1);
  t.true(progress.every((p) => p.role === 'big' && p.host === 'web1'));
  t.is(progress[progress.length - 1]!.text, 'sending 1 file: 5.0 of 5.0 MiB (100%)');
  await run(connector());
  t.false(events.some((e) => e.type === 'host:progress'), 'two files of 1 byte: no progress');
});
