import { sh, joinCommands, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { parsePathState, pathStateCommand, type PathState } from '../facts/path-state.ts';
import { change, fail, noop, type ApplyRuntime, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, paramNames, parseSections, probeFailed, rejectUnknownParams, section } from './kit.ts';
import { checkAbsPath, checkMode } from './path-params.ts';
import { unifiedDiff } from './diff.ts';
import { sha256Hex, switchCommand } from './guard/switch-script.ts';
import { confirmSwitch } from './guard/confirm.ts';

/** A file a guarded change writes: fixed content, or content made from what the host has (undefined: absent). */
export interface GuardedFileSpec {
  readonly path: string;
  readonly content: string | ((before: string | undefined) => string);
  /** Octal, default '0644'. */
  readonly mode?: string;
}

export interface GuardedFilesParams {
  readonly id: string;
  /** Written together, in one switch (all restored together). */
  readonly files: readonly GuardedFileSpec[];
  /** What the change is, for messages ("sshd's settings"). */
  readonly what: string;
  /** Kept here: the previous files, the pending switch, the rollback log. One per guarded step. */
  readonly stateDir: string;
  /** The host restores the previous files this long after the switch unless cairn confirmed. Default 60. */
  readonly rollbackSeconds?: number;
  /** Run on the host with the new files in place, before they take effect (`sshd -t`): failure restores at once. */
  readonly validate?: ShellCommand;
  /** Makes the files take effect (reload sshd, set the hostname); run again after a restore. */
  readonly activate?: ShellCommand;
  /** Checks after the switch, on the existing connection (over fresh logins with detachActivation): each problem a sentence. */
  readonly checks?: (rt: ApplyRuntime) => Promise<string[]>;
  /** Confirm only after a NEW login with the inventory's connection works. Default true. */
  readonly freshLogin?: boolean;
  /**
   * The activation may cut the connection (the network's configuration): it runs
   * detached after the switch has answered, and the confirmation, checks included,
   * goes over fresh logins. Default false.
   */
  readonly detachActivation?: boolean;
  /** The timer's process name (ps). Default cairn-rollback-<id>. */
  readonly timerName?: string;
  readonly notify?: readonly string[];
}

const KIND = 'guardedFiles';
const PARAMS = paramNames<GuardedFilesParams>({
  id: true,
  files: true,
  what: true,
  stateDir: true,
  rollbackSeconds: true,
  validate: true,
  activate: true,
  checks: true,
  freshLogin: true,
  detachActivation: true,
  timerName: true,
  notify: true,
});
const CONTENT_MAX = 48 * 1024;

/**
 * Files whose change can cut cairn off (sshd's config, the hostname, the network),
 * changed with a dead-man switch: the host keeps the previous files and arms a
 * detached timer before it puts the new ones in place, validates and activates them
 * (guard/switch-script.ts); cairn confirms only after its checks and a NEW login with
 * the inventory's settings pass (guard/confirm.ts). Otherwise the host restores the
 * previous files and activates them again by itself, even when the controller is gone.
 * A noop when every file has the wanted content and no switch is pending.
 */
export function guardedFiles(params: GuardedFilesParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  if (!Array.isArray(params.files) || params.files.length === 0) throw paramError(KIND, id, 'files', 'must list at least one file', "e.g. files: [{ path: '/etc/hostname', content: 'node1\\n' }]");
  const files = params.files.map((f, i) => {
    rejectUnknownParams(KIND, id, f, ['path', 'content', 'mode'], `files[${i}].`);
    const path = checkAbsPath(KIND, id, `files[${i}].path`, f.path);
    if (typeof f.content !== 'string' && typeof f.content !== 'function') throw paramError(KIND, id, `files[${i}].content`, 'must be text or a function of the current text', "e.g. content: 'node1\\n'");
    return { path, content: f.content, mode: checkMode(KIND, id, f.mode) ?? '0644' };
  });
  if (new Set(files.map((f) => f.path)).size !== files.length) throw paramError(KIND, id, 'files', 'lists a path twice', 'list each file once');
  const stateDir = checkAbsPath(KIND, id, 'stateDir', params.stateDir);
  const seconds = params.rollbackSeconds ?? 60;
  if (!Number.isInteger(seconds) || seconds < 5 || seconds > 3600) throw paramError(KIND, id, 'rollbackSeconds', `must be an integer from 5 to 3600, got ${JSON.stringify(params.rollbackSeconds)}`, 'e.g. rollbackSeconds: 60');
  if (typeof params.what !== 'string' || !params.what) throw paramError(KIND, id, 'what', 'must say what is changed', "e.g. what: \"sshd's settings\"");
  const freshLogin = params.freshLogin ?? true;
  const timerName = params.timerName ?? `cairn-rollback-${id}`;
  if (params.detachActivation !== undefined && typeof params.detachActivation !== 'boolean') throw paramError(KIND, id, 'detachActivation', `must be true or false, got ${JSON.stringify(params.detachActivation)}`, 'e.g. detachActivation: true');
  const detached = params.detachActivation === true && params.activate !== undefined;
  if (detached && !freshLogin) throw paramError(KIND, id, 'freshLogin', 'cannot be false with detachActivation: a detached activation is watched over fresh logins only', 'drop freshLogin: false');
  if (!/^[A-Za-z0-9_.-]+$/.test(timerName)) throw paramError(KIND, id, 'timerName', `must be a plain process name, got ${JSON.stringify(timerName)}`, 'e.g. timerName: cairn-sshd-rollback');

  return {
    kind: KIND,
    id,
    ...(params.notify ? { notify: params.notify } : {}),
    paths: files.map((f) => f.path),
    probe(): ShellCommand {
      // each file's state in its own section, base64 (the path-state sections would collide)
      const parts = files.map((f, i) => section(`file-${i}`, sh`out=$( ( ${pathStateCommand(f.path, { contentMax: CONTENT_MAX })}
) ) || exit 1; printf '%s' "$out" | base64`));
      return joinCommands([...parts, sh`if [ -f ${`${stateDir}/pending`} ]; then ${section('pending', sh`cat ${`${stateDir}/pending`}`)}
fi`, sh`exit 0`], '\n');
    },
    plan(probe: CommandResult | undefined): Plan {
      if (!probe) return fail(`${KIND} '${id}': no probe result`);
      if (probe.exitCode !== 0) return probeFailed(KIND, id, probe);
      const sec = parseSections(probe.stdout);
      const pending = sec.get('pending')?.trim();
      const wanted: { path: string; content: Buffer; mode: string }[] = [];
      const diffs: string[] = [];
      let same = true;
      for (const [i, f] of files.entries()) {
        let st: PathState;
        try {
          st = parsePathState(Buffer.from((sec.get(`file-${i}`) ?? '').replace(/\s+/g, ''), 'base64').toString('utf8'));
        } catch (err) {
          return fail(`${KIND} '${id}': ${f.path}: ${(err as Error).message}`);
        }
        if (st.type === 'dir' || st.type === 'other' || (st.type === 'link' && st.resolved !== 'file' && st.resolved !== 'absent')) return fail(`${KIND} '${id}': ${f.path} is not a file (${st.type}); move it away`);
        if (st.type === 'file' && st.content === undefined) return fail(`${KIND} '${id}': ${f.path} is larger than ${CONTENT_MAX} bytes; a guarded file must be small`);
        const before = st.type === 'file' ? st.content!.toString('utf8') : undefined;
        let text: string;
        try {
          text = typeof f.content === 'function' ? f.content(before) : f.content;
        } catch (err) {
          return fail(`${KIND} '${id}': ${f.path}: ${(err as Error).message}`);
        }
        const content = Buffer.from(text);
        const modeOk = st.type === 'file' && st.mode === Number.parseInt(f.mode, 8);
        if (st.type !== 'file' || st.sha256 !== sha256Hex(content) || !modeOk) {
          same = false;
          const d = st.type === 'link' ? `--- ${f.path} (host: symlink to ${st.target ?? '?'})\n+++ ${f.path} (wanted)\n${text.replace(/^/gm, '+')}` : unifiedDiff(before, text, { path: f.path });
          diffs.push(d || `${f.path}: mode ${(st.mode ?? 0).toString(8).padStart(4, '0')} -> ${f.mode}`);
        }
        wanted.push({ path: f.path, content, mode: f.mode });
      }
      const list = files.map((f) => f.path).join(', ');
      if (same && !pending) return noop(`${list} as wanted`);
      const reason = same ? `confirm the pending switch of ${params.what} (an earlier run did not confirm it)` : `switch ${params.what} (${list}; rolled back by the host after ${seconds}s unless confirmed)`;
      return change(reason, [switchCommand({ files: wanted, stateDir, seconds, timerName, ...(params.validate ? { validate: params.validate } : {}), ...(params.activate ? { activate: params.activate } : {}), ...(detached ? { detachActivation: true } : {}) })], diffs.join('\n') || undefined);
    },
    async afterChange(rt: ApplyRuntime): Promise<void> {
      await confirmSwitch(rt, { stateDir, seconds, what: params.what, freshLogin, ...(detached ? { detached: true } : {}), ...(params.checks ? { checks: params.checks } : {}) });
    },
  };
}
