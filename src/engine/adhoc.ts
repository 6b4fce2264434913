import { createConnector } from '../connectors/factory.ts';
import type { Connector } from '../connectors/connector.ts';
import { mask } from '../core/secret.ts';
import { Semaphore } from '../core/semaphore.ts';
import { sh, type ShellCommand } from '../shell/sh.ts';
import type { SelectedHosts } from './prepare.ts';
import type { HostSpec, ConnectionSettings } from '../inventory/types.ts';

/** What one host gave for an ad-hoc command (`cairn exec`). */
export interface AdhocResult {
  host: string;
  /** undefined when the host could not be reached (or become failed before the command ran). */
  exitCode?: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  unreachable?: boolean;
  /** Why the command did not run. */
  error?: string;
}

/**
 * The operator's command text, run by the login user's shell as typed (like
 * `ssh host 'text'` or `ansible -m shell`): `$SHELL -c <text>` inside the
 * connector's /bin/sh (with become when the inventory says so). The text is
 * one quoted word; nothing in it is interpreted on the controller.
 */
export function adhocCommand(text: string): ShellCommand {
  return sh`exec "\${SHELL:-/bin/sh}" -c ${text}`;
}

export interface AdhocOptions {
  forks: number;
  acceptNewHostKeys?: boolean;
  /** Called as each host finishes (for output grouped per host). */
  onResult?: (r: AdhocResult) => void;
  /** For tests: how a host is reached. */
  connect?: (host: HostSpec, settings: ConnectionSettings) => Connector;
}

/** Run `text` on every selected host, `forks` at once; results in inventory order. */
export async function runAdhoc(selected: SelectedHosts, text: string, o: AdhocOptions): Promise<AdhocResult[]> {
  const forks = new Semaphore(o.forks);
  const command = adhocCommand(text);
  const connect = o.connect ?? ((h, s) => createConnector(h, s, { acceptNewHostKeys: !!o.acceptNewHostKeys }));
  return Promise.all(
    selected.hosts.map((host) =>
      forks.use(async () => {
        const started = Date.now();
        let r: AdhocResult;
        let conn: Connector | undefined;
        try {
          conn = connect(host, selected.inventory.connection);
          const res = await conn.run(command);
          r = { host: host.name, exitCode: res.exitCode, stdout: mask(res.stdout), stderr: mask(res.stderr), durationMs: Date.now() - started };
        } catch (err) {
          r = { host: host.name, stdout: '', stderr: '', durationMs: Date.now() - started, unreachable: true, error: mask((err as Error).message) };
        } finally {
          await conn?.close().catch(() => undefined);
        }
        o.onResult?.(r);
        return r;
      }),
    ),
  );
}
