import type { Connector, RunOptions } from '../connector.ts';
import { stdinOptionsOf, type Stdin, type StdinOptions } from '../stdin.ts';
import type { ShellCommand } from '../../shell/sh.ts';
import type { CommandResult } from '../../core/result.ts';
import { CommandFailedError, UnreachableError } from '../../core/errors.ts';
import type { ConnectionSettings, HostSpec } from '../../inventory/types.ts';
import { BecomeError, becomeFailure, wrapBecome } from '../become.ts';
import { sudoMode, type SudoMode } from '../become-password.ts';
import { Semaphore } from '../../core/semaphore.ts';
import { mask, type Secret } from '../../core/secret.ts';
import { toCommandResult, type RawOutput } from '../process.ts';
import { resolveSshTarget, type ResolvedSshTarget } from '../ssh-config.ts';
import { sshConfigSource } from './config-source.ts';
import { catDownloadCommand, catUploadCommand, MISSING_FILE_EXIT } from '../transfer.ts';
import { closeConnection } from './close.ts';
import type { Connection } from './connection.ts';
import { execOn } from './exec.ts';
import { hopLabel } from './hop.ts';
import { PasswordRefusedError } from './handshake.ts';
import { openWithRetry } from './open.ts';
import { emptyStats, type SshConnectorOptions, type SshStats } from './options.ts';
import { sftpRead, sftpSession, sftpWrite, type SftpSession } from './sftp.ts';

export type { SshConnectorOptions, SshStats } from './options.ts';

/** A ProxyCommand's stderr, like OpenSSH shows it: on the terminal, here with the host in front and secrets masked. */
function proxyStderrToConsole(host: string, line: string): void {
  process.stderr.write(`${mask(`[${host}] ProxyCommand: ${line}`)}\n`);
}

/**
 * Agentless SSH over one ssh2 connection per host (through ProxyJump hops if
 * configured). Every command is `/bin/sh -c '<text>'` in its own channel; up to
 * `maxChannels` run at once. Host keys are verified against known_hosts.
 */
export class SshConnector implements Connector {
  readonly kind = 'ssh' as const;
  readonly host: string;
  readonly stats: SshStats = emptyStats();
  readonly #spec: HostSpec;
  readonly #settings: ConnectionSettings;
  readonly #opts: SshConnectorOptions;
  readonly #slots: Semaphore;
  #target?: ResolvedSshTarget;
  #connecting?: Promise<Connection>;
  #conn?: Connection;
  #closed = false;
  /** With a become password: whether sudo needs it, found out once (a refused password rejects every later use). */
  #sudoMode?: Promise<SudoMode>;
  /** A refused password: every later connect fails with it at once (the password is sent once per run). */
  #refused?: PasswordRefusedError;

  constructor(host: HostSpec, settings: ConnectionSettings, opts: SshConnectorOptions = {}) {
    this.host = host.name;
    this.#spec = host;
    this.#settings = settings;
    this.#opts = opts;
    this.#slots = new Semaphore(opts.maxChannels ?? 8);
  }

  /** Where the connection goes (after connect(); resolves ssh_config on first use). */
  get target(): ResolvedSshTarget {
    return (this.#target ??= this.#resolve());
  }

  #resolve(): ResolvedSshTarget {
    const home = this.#opts.home;
    try {
      const config = sshConfigSource(this.#settings.sshConfig, this.#opts);
      return resolveSshTarget(this.#spec, config, {
        ...(home ? { home } : {}),
        settings: this.#settings,
      });
    } catch (err) {
      throw new UnreachableError(this.host, (err as Error).message, { cause: err });
    }
  }

  async connect(): Promise<void> {
    await this.#connection();
  }

  async #connection(): Promise<Connection> {
    if (this.#closed) throw new Error(`connector for ${this.host} is closed`);
    if (this.#refused) throw this.#refused;
    if (this.#conn && !this.#conn.ended.reason) return this.#conn;
    const lost = this.#conn?.ended.reason;
    if (lost) {
      // the connection dropped: one fresh attempt
      this.#conn = undefined;
      this.#connecting = undefined;
    }
    this.#connecting ??= this.#open(lost).then(
      (c) => {
        this.#conn = c;
        return c;
      },
      (err: unknown) => {
        this.#connecting = undefined;
        if (err instanceof PasswordRefusedError) this.#refused = err;
        else if (err instanceof UnreachableError && err.cause instanceof PasswordRefusedError) this.#refused = err.cause;
        throw err;
      },
    );
    return this.#connecting;
  }

  /** Open the connection; after a `lost` one, a failure says both. */
  async #open(lost: Error | undefined): Promise<Connection> {
    try {
      return await this.#openFresh();
    } catch (err) {
      if (!lost) throw err;
      const why = err instanceof UnreachableError ? err.reason : (err as Error).message;
      throw new UnreachableError(this.host, `the SSH connection to ${hopLabel(this.target)} was lost (${lost.message}); connecting again: ${why}`, { cause: err });
    }
  }

  #openFresh(): Promise<Connection> {
    return openWithRetry(this.target, {
      host: this.host,
      connectTimeoutMs: this.#settings.connectTimeoutMs,
      acceptNewHostKeys: !!this.#opts.acceptNewHostKeys,
      agent: this.#opts.agent === null ? null : (this.#opts.agent ?? process.env.SSH_AUTH_SOCK),
      onProxyStderr: (line) => (this.#opts.onProxyStderr ?? proxyStderrToConsole)(this.host, line),
      keepaliveIntervalMs: this.#opts.keepaliveIntervalMs ?? 15_000,
      onRecordedHostKey: (what) => this.stats.recordedHostKeys.push(what),
      stats: this.stats,
      password: this.#spec.password,
    });
  }

  /** Become applies: set on the host, not disabled for this call, and not logging in as root already. */
  #becomes(options: { noBecome?: boolean }): boolean {
    return this.#spec.become !== false && !options.noBecome && this.target.user !== 'root';
  }

  /** Run a command (become applied by the caller) in its own channel, at most maxChannels at once. */
  async #exec(command: ShellCommand, stdin: Stdin | undefined, timeoutMs: number, become: boolean, sudoPassword?: Secret, stdinOptions?: StdinOptions): Promise<RawOutput> {
    const release = await this.#slots.acquire();
    try {
      this.stats.peakChannels = this.#slots.peak;
      const conn = await this.#connection();
      this.stats.commands++;
      return await execOn(conn, command, { host: this.host, where: hopLabel(this.target), stdin, timeoutMs, become: become ? this.#spec.become : false, sudoPassword, ...(stdinOptions ? { stdinOptions } : {}) });
    } finally {
      release();
    }
  }

  /** The sudo password to feed each become command, or undefined (none set, doas, or sudo needs none). */
  async #sudoPassword(): Promise<Secret | undefined> {
    const password = this.#spec.becomePassword;
    if (!password || this.#spec.become !== 'sudo') return undefined;
    this.#sudoMode ??= sudoMode(this.host, this.target.user, password, async (cmd, stdin) =>
      toCommandResult(cmd, await this.#exec(cmd, stdin, this.#settings.commandTimeoutMs ?? 0, false)),
    ).catch((err: unknown) => {
      // kept: sudo's answer (a refused password is not tried again); not kept: a lost connection
      if (!(err instanceof BecomeError)) this.#sudoMode = undefined;
      throw err;
    });
    return (await this.#sudoMode) === 'password' ? password : undefined;
  }

  /** Run with the raw bytes kept (for binary output). Same rules as run(). */
  async runRaw(command: ShellCommand, options: RunOptions = {}): Promise<RawOutput & { result: CommandResult }> {
    // OpenSSH drops the whole connection on an exec request with a NUL byte in it
    if (command.text.includes('\0')) throw new TypeError(`${this.host}: a command cannot contain a NUL byte: ${command.display}`);
    await this.#connection();
    const become = this.#becomes(options);
    const sudoPassword = become ? await this.#sudoPassword() : undefined;
    const wrapped = become ? wrapBecome(command, this.#spec.become, { password: !!sudoPassword }) : command;
    const raw = await this.#exec(wrapped, options.stdin, options.timeoutMs ?? this.#settings.commandTimeoutMs ?? 0, become, sudoPassword, stdinOptionsOf(options));
    const result = toCommandResult(command, raw);
    if (become) {
      const failure = becomeFailure(this.host, result, this.#spec.become, this.target.user, { password: !!this.#spec.becomePassword });
      if (failure) throw failure;
    }
    return { ...raw, result };
  }

  async run(command: ShellCommand, options: RunOptions = {}): Promise<CommandResult> {
    return (await this.runRaw(command, options)).result;
  }

  /** SFTP unless become applies (SFTP runs as the login user, the file must be written as root) or transfer is 'exec'. */
  async #sftpFor(conn: Connection): Promise<SftpSession | undefined> {
    if (this.#becomes({})) return undefined;
    return sftpSession(conn, this.host, this.#opts.transfer ?? 'auto', this.stats);
  }

  async upload(path: string, content: Buffer, options: { mode?: number } = {}): Promise<void> {
    const conn = await this.#connection();
    let sftp: SftpSession | undefined;
    try {
      sftp = await this.#sftpFor(conn);
      if (sftp) return await sftpWrite(sftp, path, content, options.mode);
    } catch (err) {
      throw this.#sftpError(conn, `upload to ${path}`, err);
    }
    const res = await this.run(catUploadCommand(path, options.mode), { stdin: content });
    if (res.exitCode !== 0) throw new CommandFailedError(this.host, res, `upload to ${path}`);
  }

  /** A lost connection makes the host unreachable; any other SFTP error fails the transfer. */
  #sftpError(conn: Connection, what: string, err: unknown): Error {
    const lost = conn.ended.reason;
    if (lost) return new UnreachableError(this.host, `the SSH connection to ${hopLabel(this.target)} was lost during the ${what} over SFTP (${lost.message})`, { cause: err });
    return new Error(`${what.replace(/ (to|of) /, ` $1 ${this.host}:`)} over SFTP failed: ${(err as Error).message}`, { cause: err });
  }

  async download(path: string): Promise<Buffer | undefined> {
    const conn = await this.#connection();
    let sftp: SftpSession | undefined;
    try {
      sftp = await this.#sftpFor(conn);
      if (sftp) return await sftpRead(sftp, path);
    } catch (err) {
      throw this.#sftpError(conn, `download of ${path}`, err);
    }
    const raw = await this.runRaw(catDownloadCommand(path));
    if (raw.exitCode === MISSING_FILE_EXIT && raw.stdout.length === 0) return undefined;
    if (raw.exitCode !== 0) throw new CommandFailedError(this.host, raw.result, `download of ${path}`);
    return raw.stdout;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const conn = this.#conn ?? (await this.#connecting?.catch(() => undefined));
    this.#conn = undefined;
    this.#connecting = undefined;
    if (conn) await closeConnection(conn);
  }
}
