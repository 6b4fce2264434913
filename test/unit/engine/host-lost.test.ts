import test from 'ava';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runHost, type HostJob } from '../../../src/engine/host-run.ts';
import { UnreachableError } from '../../../src/core/errors.ts';
import { change, upload } from '../../../src/operations/operation.ts';
import type { Connector } from '../../../src/connectors/connector.ts';
import type { HostSpec, Inventory } from '../../../src/inventory/types.ts';
import type { LoadedRole } from '../../../src/roles/loader.ts';
import type { RunEvent } from '../../../src/engine/events.ts';

// A connection lost while a step is applied: the host is unreachable, and the summary says on which step.

const facts = readFileSync(new URL('../../fixtures/facts/alpine319-amd64-openrc-booted.txt', import.meta.url), 'utf8');
const host: HostSpec = { name: 'web1', connection: 'ssh', address: '10.0.0.1', become: false, vars: {}, groups: [], location: { file: 'inv.yml' } };

function connector(uploadError: Error): Connector {
  let calls = 0;
  return {
    host: 'web1',
    kind: 'ssh',
    connect: async () => undefined,
    // facts first; then the up-front probe (only the read-only pending-handler notes probe), run by a real shell
    run: async (cmd) => {
      if (++calls === 1) return { command: cmd.display, exitCode: 0, stdout: facts, stderr: '', durationMs: 0 };
      const r = spawnSync('/bin/sh', ['-c', cmd.text], { encoding: 'utf8' });
      return { command: cmd.display, exitCode: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, durationMs: 0 };
    },
    upload: async () => {
      throw uploadError;
    },
    download: async () => undefined,
    close: async () => undefined,
  };
}

const role: LoadedRole = {
  dir: '/nowhere',
  file: '/nowhere/index.ts',
  builtin: false,
  def: {
    name: 'nomad',
    steps: () => [
      { kind: 'file', id: 'config', probe: () => undefined, plan: () => change('write /etc/nomad.hcl', [upload('/etc/nomad.hcl', Buffer.from('x'), 'nomad.hcl')]) },
      { kind: 'file', id: 'after', probe: () => undefined, plan: () => change('write /etc/after', [upload('/etc/after', Buffer.from('y'), 'after')]) },
    ],
  },
};

const job: HostJob = { host, roles: [role], varsFor: () => ({}), hostsWithRole: () => [host], inventory: {} as Inventory };

function run(conn: Connector) {
  const events: RunEvent[] = [];
  const opts = { mode: 'apply' as const, bake: false, emit: (e: RunEvent) => void events.push(e), roleLimits: new Map(), render: () => '', commandTimeoutMs: 0 };
  return runHost(job, conn, opts);
}

test('a connection lost during an upload makes the host unreachable, naming the step', async (t) => {
  const lost = new UnreachableError('web1', 'the SSH connection to 10.0.0.1:22 was lost during the upload to /etc/nomad.hcl over SFTP (read ECONNRESET)');
  const summary = await run(connector(lost));
  t.true(summary.unreachable);
  t.is(summary.failed, 0);
  t.is(summary.error, `connection lost while applying nomad/config: ${lost.message}`);
  t.deepEqual(summary.ops, []);
});

test('any other upload error is a failed step', async (t) => {
  const summary = await run(connector(new Error('upload to web1:/etc/nomad.hcl over SFTP failed: Permission denied')));
  t.false(summary.unreachable);
  t.is(summary.failed, 1);
  t.deepEqual(
    summary.ops.map((o) => `${o.role}/${o.id} ${o.status}`),
    ['nomad/config failed', 'nomad/after skipped'],
  );
});
