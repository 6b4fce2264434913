import type { ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import type { Stdin, StdinGate } from './stdin.ts';

export interface RunOptions {
  /** Bytes or text fed to the command's standard input (pieces are sent in order, not joined). */
  stdin?: Stdin;
  /** Called as the stdin is sent: bytes the connection took so far, of all. */
  onStdinProgress?: (sent: number, total: number) => void;
  /** A stdin above a few MiB waits for a slot of this (shared by the hosts of a run). */
  stdinGate?: StdinGate;
  /** Kill the command after this long; the result then has exit code 124. */
  timeoutMs?: number;
  /** Run without become even if the host uses it. */
  noBecome?: boolean;
}

/**
 * How cairn reaches a host: ssh, local or chroot. One instance per host, one
 * underlying connection reused for everything. Commands never throw for a
 * non-zero exit: the caller checks `exitCode`.
 */
export interface Connector {
  /** Name of the host (inventory name). */
  readonly host: string;
  readonly kind: 'ssh' | 'local' | 'chroot';
  connect(): Promise<void>;
  /** Run through /bin/sh -c on the target (with become if configured). */
  run(command: ShellCommand, options?: RunOptions): Promise<CommandResult>;
  /** Write bytes to exactly `path` (callers pick a temp path and rename). */
  upload(path: string, content: Buffer, options?: { mode?: number }): Promise<void>;
  /** Read a whole file; undefined if it does not exist. */
  download(path: string): Promise<Buffer | undefined>;
  close(): Promise<void>;
}
