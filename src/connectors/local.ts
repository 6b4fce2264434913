import { promises as fsp } from 'node:fs';
import { stdinOptionsOf, type Stdin, type StdinOptions } from './stdin.ts';
import * as os from 'node:os';
import type { Connector, RunOptions } from './connector.ts';
import type { ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { CommandFailedError } from '../core/errors.ts';
import type { Become, ConnectionSettings, HostSpec } from '../inventory/types.ts';
import { becomeFailure, wrapBecome } from './become.ts';
import { spawnCollect, toCommandResult, type RawOutput } from './process.ts';
import { catDownloadCommand, catUploadCommand, MISSING_FILE_EXIT } from './transfer.ts';

function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? String(process.getuid?.() ?? 'unknown');
  }
}

/**
 * Runs commands on the controller itself: `/bin/sh -c <text>` through
 * child_process.spawn (no extra shell). Become wraps with sudo/doas like over
 * ssh, unless cairn already runs as root. Files are written with fs (or with
 * `cat` under become when cairn is not root).
 */
export class LocalConnector implements Connector {
  readonly kind = 'local' as const;
  readonly host: string;
  readonly #become: Become;
  readonly #defaultTimeoutMs: number;
  readonly #user = currentUser();

  constructor(host: Pick<HostSpec, 'name' | 'become'>, settings?: Pick<ConnectionSettings, 'commandTimeoutMs'>) {
    this.host = host.name;
    this.#become = host.become;
    this.#defaultTimeoutMs = settings?.commandTimeoutMs ?? 0;
  }

  /** Whether commands are wrapped with sudo/doas (become set and not already root). */
  get usesBecome(): boolean {
    return this.#become !== false && process.getuid?.() !== 0;
  }

  async connect(): Promise<void> {}

  async close(): Promise<void> {}

  async #exec(command: ShellCommand, options: RunOptions): Promise<RawOutput> {
    const become = this.usesBecome && !options.noBecome;
    const cmd = become ? wrapBecome(command, this.#become) : command;
    const spawnOpts: { stdin?: Stdin; stdinOptions?: StdinOptions; timeoutMs: number } = { timeoutMs: options.timeoutMs ?? this.#defaultTimeoutMs };
    if (options.stdin !== undefined) spawnOpts.stdin = options.stdin;
    spawnOpts.stdinOptions = stdinOptionsOf(options);
    return spawnCollect('/bin/sh', ['-c', cmd.text], spawnOpts);
  }

  async run(command: ShellCommand, options: RunOptions = {}): Promise<CommandResult> {
    const result = toCommandResult(command, await this.#exec(command, options));
    if (this.usesBecome && !options.noBecome) {
      const failure = becomeFailure(this.host, result, this.#become, this.#user);
      if (failure) throw failure;
    }
    return result;
  }

  async upload(path: string, content: Buffer, options: { mode?: number } = {}): Promise<void> {
    if (this.usesBecome) {
      const cmd = catUploadCommand(path, options.mode);
      const res = await this.run(cmd, { stdin: content });
      if (res.exitCode !== 0) throw new CommandFailedError(this.host, res, `upload to ${path}`);
      return;
    }
    const writeOpts: { mode?: number } = {};
    if (options.mode !== undefined) writeOpts.mode = options.mode;
    await fsp.writeFile(path, content, writeOpts);
    if (options.mode !== undefined) await fsp.chmod(path, options.mode);
  }

  async download(path: string): Promise<Buffer | undefined> {
    if (this.usesBecome) {
      const cmd = catDownloadCommand(path);
      const raw = await this.#exec(cmd, {});
      const res = toCommandResult(cmd, raw);
      if (raw.exitCode === MISSING_FILE_EXIT && raw.stdout.length === 0) return undefined;
      const failure = becomeFailure(this.host, res, this.#become, this.#user);
      if (failure) throw failure;
      if (raw.exitCode !== 0) throw new CommandFailedError(this.host, res, `download of ${path}`);
      return raw.stdout;
    }
    try {
      return await fsp.readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}
