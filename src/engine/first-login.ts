import { createConnector } from '../connectors/factory.ts';
import type { Connector } from '../connectors/connector.ts';
import { UnreachableError, UsageError } from '../core/errors.ts';
import { isSecret, type Secret } from '../core/secret.ts';
import { Semaphore } from '../core/semaphore.ts';
import type { HostSpec } from '../inventory/types.ts';
import type { PreparedRun } from './prepare.ts';

/** How `cairn enroll` logs in to a host that the inventory's key does not reach yet. */
export interface FactoryLogin {
  /** The factory or setup user (var enroll_user; '' = the inventory's user). */
  readonly user: string;
  /** Its password: var enroll_password (a Secret), else --ask-pass. */
  readonly password: Secret;
}

/** Did the login itself fail (every auth method refused), not the network or the host key? */
export function isAuthRefused(err: unknown): boolean {
  if (!(err instanceof UnreachableError)) return false;
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { level?: unknown }).level === 'client-authentication') return true;
  }
  return false;
}

/** The spec of the factory login: that user with its password, become with the same password unless it is root. */
export function factorySpec(host: HostSpec, login: FactoryLogin): HostSpec {
  const user = login.user || host.user || 'root';
  const become = user === 'root' ? false : host.become || 'sudo';
  return { ...host, user, become, password: login.password, ...(become ? { becomePassword: login.password } : {}) };
}

/**
 * For each host of the run: keep the inventory's connection when it logs in (an
 * enrolled host: enroll is then an ordinary idempotent run), else the factory login
 * when the login was refused. A refused login with no password to fall back on is a
 * usage error naming the hosts, before any change. Other failures (no route, a host
 * key mismatch) are left to the run, which reports them as usual. With `connected`,
 * a host the key logs in to leaves its logged-in connector there for the run (no
 * second handshake); without it, that connection is closed.
 */
export async function firstLogins(
  prepared: PreparedRun,
  o: { acceptNewHostKeys: boolean; forks: number; askedPassword?: Secret; enrollRole: string; connected?: Map<string, Connector> },
): Promise<Map<string, HostSpec>> {
  const out = new Map<string, HostSpec>();
  const missing: string[] = [];
  const limit = new Semaphore(o.forks);
  await Promise.all(
    prepared.jobs.map((job) =>
      limit.use(async () => {
        if (job.host.connection !== 'ssh') return;
        const conn = createConnector(job.host, prepared.inventory.connection, { acceptNewHostKeys: o.acceptNewHostKeys });
        try {
          await conn.connect();
          if (o.connected) o.connected.set(job.host.name, conn);
          else await conn.close().catch(() => undefined);
          return;
        } catch (err) {
          await conn.close().catch(() => undefined);
          if (!isAuthRefused(err)) return;
        }
        const role = job.roles.find((r) => r.def.name === o.enrollRole);
        const vars = role ? job.varsFor(role) : {};
        const password = isSecret(vars.enroll_password) ? vars.enroll_password : o.askedPassword;
        if (!password) {
          missing.push(job.host.name);
          return;
        }
        out.set(job.host.name, factorySpec(job.host, { user: typeof vars.enroll_user === 'string' ? vars.enroll_user : '', password }));
      }),
    ),
  );
  if (missing.length) {
    if (o.connected) await Promise.all([...o.connected.values()].map((c) => c.close().catch(() => undefined)));
    missing.sort();
    throw new UsageError(
      `enroll: the inventory's key login is refused by ${missing.join(', ')} and there is no factory password to log in with; ` +
        'set enroll_password: !secret_env NAME (and enroll_user) for these hosts, or pass --ask-pass. Nothing was changed.',
    );
  }
  return out;
}
