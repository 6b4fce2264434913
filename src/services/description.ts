/**
 * One description of a long-running daemon, rendered for OpenRC
 * (supervise-daemon), s6 (service directory) and systemd (unit) by
 * ./render-*.ts. Roles build one (consul, nomad, the supervision role for a
 * user's own daemons) and hand it to supervisedService().
 */

/** Signals a supervisor may use to stop the daemon. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGKILL', 'SIGUSR1', 'SIGUSR2'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

export interface ServiceDescription {
  /** Init script, unit and s6 service directory name: letters, digits, `_ . -`. */
  readonly name: string;
  /** One line for humans (init script description, unit Description=). */
  readonly description?: string;
  /** Absolute path of the daemon binary. It must stay in the foreground. */
  readonly command: string;
  readonly args?: readonly string[];
  /** Run as this user (default root) and group (default: the user's primary group). */
  readonly user?: string;
  readonly group?: string;
  /**
   * Directory of what the supervisor captures from stdout/stderr (default
   * /var/log/<name>): OpenRC `output.log` in it, s6-log's `current`; systemd
   * sends it to the journal. Created owned by `user`.
   */
  readonly logDir?: string;
  /** Open files limit (ulimit -n / LimitNOFILE). Default 65536. */
  readonly nofile?: number;
  /** Signal that stops the daemon (s6 down-signal, systemd KillSignal, OpenRC retry). Default SIGTERM. */
  readonly killSignal?: StopSignal;
  /** Services that must run first (OpenRC `need`, systemd Requires= + After=). */
  readonly needs?: readonly string[];
  /** Services that start first when they are present (OpenRC `after`, systemd After=). */
  readonly after?: readonly string[];
  /** Environment of the daemon. */
  readonly env?: Readonly<Record<string, string>>;
  /** Seconds between a crash and the restart (respawn_delay, RestartSec, s6 finish). Default 2. */
  readonly restartDelay?: number;
  /**
   * systemd: Type=notify (the daemon sends READY=1, as real Nomad and Consul
   * do). Default false: Type=simple, ready when started.
   */
  readonly notify?: boolean;
  /** systemd KillMode= (Nomad: `process`, so task executors survive an agent restart). */
  readonly killMode?: 'control-group' | 'mixed' | 'process';
  /** OOM score of the daemon (Nomad, Consul servers: -1000): systemd OOMScoreAdjust=; OpenRC and s6 set /proc/$$/oom_score_adj before the daemon starts. */
  readonly oomScoreAdjust?: number;
  /** No process / task count limit: systemd LimitNPROC=infinity + TasksMax=infinity. */
  readonly unlimitedProcesses?: boolean;
  /**
   * Files the daemon reads when it starts (a directory: with the entries directly in
   * it), besides its binary (`command`): a daemon that started before one of them last
   * changed is restarted (runningCurrent).
   */
  readonly configFiles?: readonly string[];
}

/** A description with every default filled in. */
export interface ResolvedDescription {
  readonly name: string;
  readonly description: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly user: string;
  readonly group: string | undefined;
  readonly logDir: string;
  readonly nofile: number;
  readonly killSignal: StopSignal;
  readonly needs: readonly string[];
  readonly after: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly restartDelay: number;
  readonly notify: boolean;
  readonly killMode: 'control-group' | 'mixed' | 'process' | undefined;
  readonly oomScoreAdjust: number | undefined;
  readonly unlimitedProcesses: boolean;
  readonly configFiles: readonly string[];
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const ABS = /^\/[A-Za-z0-9_.\/+@-]+$/;
const ACCOUNT = /^[a-z_][a-z0-9_-]*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** No line break (`\n`, `\r`) and no NUL: every supervisor's file format is line based. */
const oneLine = (s: string) => !/[\n\r\0]/.test(s);

/** The name as a renderer needs it (it names files): throws unless it is a service name. */
export function checkedServiceName(name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) throw new Error(`not a service name: ${JSON.stringify(name)} (letters, digits, _ . -)`);
  return name;
}

/** The signal as a renderer needs it: throws unless it is one of STOP_SIGNALS. */
export function checkedStopSignal(signal: string): StopSignal {
  if (!(STOP_SIGNALS as readonly string[]).includes(signal)) throw new Error(`not a stop signal: ${JSON.stringify(signal)} (one of ${STOP_SIGNALS.join(', ')})`);
  return signal as StopSignal;
}

/**
 * Every problem of a description, as text (`field: problem; fix`); empty when valid.
 * Takes a map read from the inventory as well: every field is checked for its type.
 */
export function describeProblems(input: ServiceDescription | Readonly<Record<string, unknown>>): string[] {
  // checked field by field below, as the description it claims to be
  const d = input as ServiceDescription;
  const out: string[] = [];
  const bad = (field: string, problem: string, fix: string) => out.push(`${field}: ${problem}; fix: ${fix}`);
  if (typeof d.name !== 'string' || !NAME.test(d.name)) bad('name', `must be a service name, got ${JSON.stringify(d.name)}`, 'letters, digits, _ . - (e.g. nomad)');
  if (d.description !== undefined && (typeof d.description !== 'string' || !oneLine(d.description) || d.description.endsWith('\\'))) {
    bad('description', `must be one line of text, not ending in a backslash, got ${JSON.stringify(d.description)}`, 'e.g. description: Consul agent');
  }
  if (typeof d.command !== 'string' || !ABS.test(d.command)) bad('command', `must be an absolute path, got ${JSON.stringify(d.command)}`, 'e.g. /usr/local/bin/nomad');
  if (d.args !== undefined && (!Array.isArray(d.args) || d.args.some((a) => typeof a !== 'string' || !oneLine(a)))) {
    bad('args', 'must be a list of strings without newlines', "e.g. args: [agent, '-config=/etc/nomad.d']");
  }
  for (const f of ['user', 'group'] as const) {
    const v = d[f];
    if (v !== undefined && (typeof v !== 'string' || !ACCOUNT.test(v))) bad(f, `must be an account name, got ${JSON.stringify(v)}`, `e.g. ${f}: consul`);
  }
  if (d.logDir !== undefined && (typeof d.logDir !== 'string' || !ABS.test(d.logDir))) bad('logDir', `must be an absolute path, got ${JSON.stringify(d.logDir)}`, 'e.g. /var/log/consul');
  if (d.nofile !== undefined && (!Number.isInteger(d.nofile) || d.nofile < 1024)) bad('nofile', `must be a whole number >= 1024, got ${JSON.stringify(d.nofile)}`, 'e.g. 65536');
  if (d.killSignal !== undefined && !STOP_SIGNALS.includes(d.killSignal)) bad('killSignal', `must be one of ${STOP_SIGNALS.join(', ')}, got ${JSON.stringify(d.killSignal)}`, 'e.g. SIGINT');
  for (const f of ['needs', 'after'] as const) {
    const v = d[f];
    if (v !== undefined && (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || !NAME.test(s)))) bad(f, `must be a list of service names, got ${JSON.stringify(v)}`, `e.g. ${f}: [consul]`);
  }
  if (d.env !== undefined) {
    if (typeof d.env !== 'object' || d.env === null || Array.isArray(d.env)) bad('env', 'must be a map of NAME: value', 'e.g. env: { GOMAXPROCS: "2" }');
    else
      for (const [k, v] of Object.entries(d.env)) {
        if (!ENV_KEY.test(k)) bad(`env.${k}`, 'is not a valid environment variable name', 'letters, digits and _, not starting with a digit');
        if (typeof v !== 'string' || !oneLine(v)) bad(`env.${k}`, `must be a one-line string, got ${JSON.stringify(v)}`, 'quote numbers: "2"');
      }
  }
  if (d.restartDelay !== undefined && (!Number.isInteger(d.restartDelay) || d.restartDelay < 0 || d.restartDelay > 300)) {
    bad('restartDelay', `must be whole seconds 0-300, got ${JSON.stringify(d.restartDelay)}`, 'e.g. 2');
  }
  if (d.oomScoreAdjust !== undefined && (!Number.isInteger(d.oomScoreAdjust) || d.oomScoreAdjust < -1000 || d.oomScoreAdjust > 1000)) {
    bad('oomScoreAdjust', `must be a whole number -1000..1000, got ${JSON.stringify(d.oomScoreAdjust)}`, 'e.g. -1000');
  }
  if (d.configFiles !== undefined && (!Array.isArray(d.configFiles) || d.configFiles.some((f) => typeof f !== 'string' || !ABS.test(f)))) {
    bad('configFiles', `must be a list of absolute paths, got ${JSON.stringify(d.configFiles)}`, 'e.g. configFiles: [/etc/exporter.yml]');
  }
  if (d.killMode !== undefined && !['control-group', 'mixed', 'process'].includes(d.killMode)) bad('killMode', `must be control-group, mixed or process, got ${JSON.stringify(d.killMode)}`, 'e.g. process');
  return out;
}

/** Fill in the defaults; throws with every problem when the description is invalid. */
export function resolveDescription(d: ServiceDescription): ResolvedDescription {
  const problems = describeProblems(d);
  if (problems.length) throw new Error(`service description '${String(d.name)}' is invalid:\n  ${problems.join('\n  ')}`);
  const user = d.user ?? 'root';
  return {
    name: d.name,
    description: d.description ?? `${d.name} (managed by cairn)`,
    command: d.command,
    args: d.args ?? [],
    user,
    group: d.group ?? (d.user ? undefined : 'root'),
    logDir: (d.logDir ?? `/var/log/${d.name}`).replace(/\/+$/, ''),
    nofile: d.nofile ?? 65536,
    killSignal: d.killSignal ?? 'SIGTERM',
    needs: d.needs ?? [],
    after: d.after ?? [],
    env: d.env ?? {},
    restartDelay: d.restartDelay ?? 2,
    notify: d.notify ?? false,
    killMode: d.killMode,
    oomScoreAdjust: d.oomScoreAdjust,
    unlimitedProcesses: d.unlimitedProcesses ?? false,
    configFiles: d.configFiles ?? [],
  };
}
