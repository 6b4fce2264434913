import type { Connector } from '../connectors/connector.ts';
import type { HostSpec } from '../inventory/types.ts';
import { createConnector } from '../connectors/factory.ts';
import type { EventSink, HostSummary } from './events.ts';
import { runHost, gatherHostFacts } from './host-run.ts';
import type { PreparedRun, SelectedHosts } from './prepare.ts';
import { Semaphore } from '../core/semaphore.ts';
import type { Facts } from '../facts/types.ts';
import { mask } from '../core/secret.ts';

export interface ExecuteOptions {
  mode: 'apply' | 'check';
  bake?: boolean;
  tags?: string[];
  /** Roles or steps not run (`role` or `role/id`). */
  skipTags?: string[];
  /** Hosts worked on at once. */
  forks?: number;
  /** Rolling batches: this many hosts complete every role before the next batch starts. */
  serial?: number;
  acceptNewHostKeys?: boolean;
  emit?: EventSink;
  /**
   * How to log in first, per host, instead of the inventory's connection (enroll's
   * factory login). Fresh logins (the guarded changes' confirm) still use the inventory's.
   */
  firstLogin?: ReadonlyMap<string, HostSpec>;
  /** Connectors already logged in with the inventory's connection, used instead of a new one (enroll's key check). */
  connected?: ReadonlyMap<string, Connector>;
}

/**
 * Big tar streams (files of queued changes, above 4 MiB) sent at once, over all hosts:
 * each holds up to about 4 MiB in this process while it goes (its four 512 KiB read
 * buffers, the SSH window in flight), and a 2-core controller is busy encrypting with a
 * few; the other
 * hosts' batches wait for a slot, their probes and small changes do not.
 */
export const UPLOAD_STREAMS = 8;

/** Apply or check every prepared host; never throws for host failures. */
export async function executeRun(prepared: PreparedRun, opts: ExecuteOptions): Promise<Record<string, HostSummary>> {
  const emit = opts.emit ?? (() => undefined);
  const { inventory } = prepared;
  emit({ type: 'run:start', mode: opts.mode, hosts: prepared.hosts.map((h) => h.name) });
  const roleLimits = new Map<string, Semaphore>();
  for (const r of prepared.roles.values()) if (r.def.serial) roleLimits.set(r.def.name, new Semaphore(r.def.serial));
  const forks = new Semaphore(opts.forks ?? 10);
  const uploadGate = new Semaphore(UPLOAD_STREAMS);
  const results: Record<string, HostSummary> = {};
  const batchSize = opts.serial && opts.serial > 0 ? opts.serial : prepared.jobs.length || 1;
  for (let i = 0; i < prepared.jobs.length; i += batchSize) {
    const batchJobs = prepared.jobs.slice(i, i + batchSize);
    await Promise.all(
      batchJobs.map((job) =>
        forks.use(async () => {
          const conn = opts.connected?.get(job.host.name) ?? createConnector(opts.firstLogin?.get(job.host.name) ?? job.host, inventory.connection, { acceptNewHostKeys: !!opts.acceptNewHostKeys });
          results[job.host.name] = await runHost(job, conn, {
            mode: opts.mode,
            bake: !!opts.bake,
            ...(opts.tags ? { tags: opts.tags } : {}),
            ...(opts.skipTags ? { skipTags: opts.skipTags } : {}),
            emit,
            roleLimits,
            uploadGate,
            render: prepared.render,
            commandTimeoutMs: inventory.connection.commandTimeoutMs,
            reconnect: () => createConnector(job.host, inventory.connection, { acceptNewHostKeys: !!opts.acceptNewHostKeys }),
          });
        }),
      ),
    );
  }
  // report hosts in inventory order
  const ordered: Record<string, HostSummary> = {};
  for (const h of prepared.hosts) if (results[h.name]) ordered[h.name] = results[h.name]!;
  emit({ type: 'run:end', hosts: ordered });
  return ordered;
}

export interface FactsResult {
  facts?: Facts;
  unreachable?: boolean;
  error?: string;
}

export async function collectFacts(prepared: SelectedHosts, opts: { forks?: number; acceptNewHostKeys?: boolean }): Promise<Record<string, FactsResult>> {
  const forks = new Semaphore(opts.forks ?? 10);
  const out: Record<string, FactsResult> = {};
  await Promise.all(
    prepared.hosts.map((host) =>
      forks.use(async () => {
        try {
          const conn = createConnector(host, prepared.inventory.connection, { acceptNewHostKeys: !!opts.acceptNewHostKeys });
          out[host.name] = { facts: await gatherHostFacts(host, conn) };
        } catch (err) {
          out[host.name] = { unreachable: true, error: mask((err as Error).message) };
        }
      }),
    ),
  );
  return out;
}
