import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Command, UploadCommand } from '../operations/operation.ts';
import { isShellCommand, sh, type ShellCommand } from '../shell/sh.ts';
import { tarPieces, type TarFile } from '../core/tar-write.ts';
import { pieceSize, type Piece } from '../connectors/stdin.ts';
import { octal } from '../connectors/transfer.ts';
import { batch, strict, type BatchItem, type BatchPart } from './batch.ts';
import { batchCost, chunkBySize } from './chunk.ts';

/**
 * Queued changes (uploads included) and the probes that follow them, in as few round
 * trips as the command size allows: usually one. The files the changes upload travel
 * as one tar stream on the batch's stdin; a staging command (placed just before the
 * first change that uploads) unpacks them into a stage directory, and each upload
 * becomes, at its own place in the order, a rename from there to its path. The stage
 * directory is made in the nearest existing ancestor of the first upload's directory
 * (the same filesystem as the files, usually: a rename, no copy, no tmpfs size limit)
 * and removed when the batch ends or stops. The probes run after the changes, only if
 * every change succeeded, and any of them may fail without stopping the others.
 */
export interface ChangeChunk {
  readonly command: ShellCommand;
  readonly stdin?: readonly Piece[];
  /** Indices (into the changes given) of the changes in this chunk, in order. */
  readonly changes: readonly number[];
  /** Indices of the probes in this chunk. */
  readonly probes: readonly number[];
  /** The change the staging command stands before, and how much it unpacks. */
  readonly stage?: { readonly before: number; readonly files: number; readonly bytes: number };
  parse(stdout: string): { changes: (BatchPart | undefined)[]; probes: (BatchPart | undefined)[]; stage?: BatchPart | undefined };
}

/** An upload as a command of its change: its staged file renamed to its path. */
function placeStaged(u: UploadCommand, n: number): ShellCommand {
  const notDir = sh`[ ! -d ${u.path} ] || { echo ${`${u.path} is a directory`} >&2; exit 1; }`;
  const place = sh`mv -f "$__cairn_s"/${String(n)} ${u.path}`;
  return u.mode !== undefined ? sh`${notDir}; ${place} && chmod ${octal(u.mode)} ${u.path}` : sh`${notDir}; ${place}`;
}

/** Sets $__cairn_s (in the batch's own shell): a stage path in the nearest existing ancestor of `dir`. */
function stagePath(dir: string): ShellCommand {
  const token = randomBytes(6).toString('hex');
  return sh`__cairn_s=${dir}
while [ ! -d "$__cairn_s" ]; do __cairn_s=\${__cairn_s%/*}; [ -n "$__cairn_s" ] || __cairn_s=/; done
__cairn_s=\${__cairn_s%/}/.cairn-stage.${token}`;
}

const STAGE = sh`mkdir -m 700 "$__cairn_s" && tar -xof - -C "$__cairn_s"`;

interface Built {
  readonly change: number;
  readonly cmd: ShellCommand;
  readonly uploads: readonly UploadCommand[];
}

export function changeChunks(changes: readonly (readonly Command[])[], probes: readonly ShellCommand[] = []): ChangeChunk[] {
  // each change's commands, its uploads numbered within the chunk later
  type Item = { kind: 'change'; change: number; commands: readonly Command[]; cost: number } | { kind: 'probe'; probe: number; cmd: ShellCommand; cost: number };
  const items: Item[] = [
    ...changes.map((commands, change): Item => ({
      kind: 'change',
      change,
      commands,
      cost: commands.reduce((n, c) => n + (isShellCommand(c) ? batchCost(c) : 512), 256),
    })),
    ...probes.map((cmd, probe): Item => ({ kind: 'probe', probe, cmd, cost: batchCost(cmd) })),
  ];
  return chunkBySize(items, (it) => it.cost).map((chunk) => {
    let n = 0;
    const built: Built[] = [];
    const files: TarFile[] = [];
    for (const it of chunk) {
      if (it.kind !== 'change') continue;
      const uploads: UploadCommand[] = [];
      const cmds = it.commands.map((c) => {
        if (isShellCommand(c)) return c;
        uploads.push(c);
        files.push({ name: String(n), content: c.content, ...(c.mode !== undefined ? { mode: c.mode } : {}) });
        return placeStaged(c, n++);
      });
      built.push({ change: it.change, cmd: strict(cmds), uploads });
    }
    const probeItems = chunk.flatMap((it) => (it.kind === 'probe' ? [it] : []));
    const firstUp = built.findIndex((b) => b.uploads.length > 0);
    const elements: BatchItem[] = [];
    built.forEach((b, i) => {
      if (i === firstUp) elements.push({ command: STAGE, stdin: true });
      elements.push({ command: b.cmd });
    });
    for (const p of probeItems) elements.push({ command: p.cmd, mayFail: true });
    const staged = firstUp >= 0;
    const b = batch(
      elements,
      staged ? { stopOnFailure: true, prelude: stagePath(posix.dirname(built[firstUp]!.uploads[0]!.path)), cleanup: sh`rm -rf "$__cairn_s"` } : { stopOnFailure: true },
    );
    const offset = (i: number) => (staged && i >= firstUp ? i + 1 : i);
    return {
      command: b.command,
      ...(staged ? { stdin: tarPieces(files) } : {}),
      changes: built.map((x) => x.change),
      probes: probeItems.map((p) => p.probe),
      ...(staged ? { stage: { before: built[firstUp]!.change, files: files.length, bytes: files.reduce((s, f) => s + pieceSize(f.content), 0) } } : {}),
      parse(stdout: string) {
        const parts = b.parse(stdout);
        return {
          changes: built.map((_, i) => parts[offset(i)]),
          probes: probeItems.map((_, j) => parts[elements.length - probeItems.length + j]),
          ...(staged ? { stage: parts[firstUp] } : {}),
        };
      },
    };
  });
}
