/** One file a supervisor needs. */
export interface ServiceFile {
  /** Step id suffix, unique per service: `initd`, `confd`, `unit`, `s6-run`, ... */
  readonly key: string;
  readonly path: string;
  readonly content: string;
  readonly mode: string;
  /** Changing it requires a restart of the service (all of them do today). */
  readonly restart: boolean;
  /** systemd must re-read its units. */
  readonly daemonReload?: boolean;
}

/** The first comment of every file cairn writes for a supervisor. */
export const HEADER = 'Managed by cairn: changes here are overwritten on the next apply.';
