import { createHash } from 'node:crypto';
import { Secret, mask } from '../core/secret.ts';
import { sh, type ShellCommand } from '../shell/sh.ts';
import { checkId, paramError, paramNames, rejectUnknownParams } from './kit.ts';
import { change, fail, leaving, noop, type Operation, type Plan } from './operation.ts';
import { checkAbsPath, checkBoolean } from './path-params.ts';
import { unifiedDiff } from './diff.ts';
import { DIFF_MAX_BYTES, INLINE_MAX_BYTES, asText, holdsSecret, textContent } from './file-content.ts';
import { pathOperation } from './path-operation.ts';
import type { PathState } from '../facts/path-state.ts';

export interface BootFileParams {
  readonly id: string;
  /** Absolute path on the host, on the FAT boot partition, e.g. /boot/firmware/ssh. */
  readonly path: string;
  /** The wanted content ('' for an empty marker file). A Secret (or secretText`...`) reaches the host unmasked and is never shown. */
  readonly content: string | Secret;
  /**
   * An existing file whose content this accepts is left as it is (noop), even when
   * it differs from `content`: e.g. a password hash with another salt that still
   * verifies. Called with the file's text (at most 64 KiB).
   */
  readonly accept?: (existing: string) => boolean;
  /** Keep the replaced file as `<path>.cairn-bak.<epoch>` (plain copy: FAT keeps no owner or mode) (default true). */
  readonly backup?: boolean;
  /** Never show the content (diff hidden). Implied when content is a Secret or holds secret text. */
  readonly secret?: boolean;
  readonly notify?: readonly string[];
}

const KIND = 'bootFile';
const PARAMS = paramNames<BootFileParams>({ id: true, path: true, content: true, accept: true, backup: true, secret: true, notify: true });

/**
 * A file on a FAT boot partition (Raspberry Pi OS /boot/firmware: userconf.txt,
 * the `ssh` marker, config.txt): exact content, written atomically (temp file in
 * the same directory, sync, rename, sync) with no chmod, chown or `cp -p`. FAT
 * has no owners and its modes come from the mount options, so the kernel refuses
 * most mode changes (EPERM) and userspace FAT drivers refuse all of them: the
 * `file` operation, which sets a mode on every new file, fails there. Mode and
 * owner are therefore neither read nor set.
 */
export function bootFile(params: BootFileParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const path = checkAbsPath(KIND, id, 'path', params.path);
  const backup = checkBoolean(KIND, id, 'backup', params.backup) ?? true;
  let secret = checkBoolean(KIND, id, 'secret', params.secret) ?? false;
  const text = textContent(KIND, id, params.content);
  if (!text) throw paramError(KIND, id, 'content', `must be a string or a Secret, got ${params.content === undefined ? 'nothing' : typeof params.content}`, "give the file's text ('' for an empty file)");
  const wanted = text.bytes;
  secret ||= text.secret;
  if (wanted.length > INLINE_MAX_BYTES) throw paramError(KIND, id, 'content', `is larger than ${INLINE_MAX_BYTES} bytes`, 'a boot partition file cairn writes is small text (config.txt, userconf.txt)');
  if (params.accept !== undefined && typeof params.accept !== 'function') {
    throw paramError(KIND, id, 'accept', `must be a function of the existing text returning true or false, got ${typeof params.accept}`, 'e.g. accept: (text) => verifies(text)');
  }
  const accept = params.accept;
  const hidden = secret || holdsSecret(wanted.toString('utf8'));
  const wantedHash = createHash('sha256').update(wanted).digest('hex');

  return pathOperation(KIND, id, path, { notify: params.notify, probe: { contentMax: DIFF_MAX_BYTES } }, (state): Plan => {
    if (state.type === 'dir') return fail(`${KIND} '${id}': ${path} is a directory, not a file`);
    if (state.type === 'link' || state.type === 'other') return fail(`${KIND} '${id}': ${path} exists and is not a regular file (a FAT boot partition has no links or special files: is the boot partition mounted there?)`);
    if (state.type === 'file' && state.sha256 === wantedHash) return noop(`${path} already has the wanted content`);
    if (state.type === 'file' && accept && state.content) {
      const text = asText(state.content);
      if (text !== undefined && accept(text)) return noop(`${path} has content that is accepted as it is${hidden ? ' (secret, not shown)' : ''}`);
    }
    const verb = state.type === 'absent' ? 'create' : 'update';
    const commands = [fatWrite(path, wanted, { secret: hidden, backup: backup && state.type === 'file' && !state.pending })];
    // FAT modes come from the mount: the effect on the path is not predicted
    return leaving(change(`${verb} ${path}`, commands, diffOf(path, state, wanted, hidden)), { path, kind: 'unknown' });
  });
}

/** Write `content` to `path` on FAT: temp file, sync, rename, sync; a plain `cp` backup first. */
export function fatWrite(path: string, content: Buffer, opts: { secret: boolean; backup: boolean }): ShellCommand {
  const tmp = `${path}.cairn-tmp`;
  const b64 = content.toString('base64');
  const produce = content.length === 0 ? sh`: > ${tmp}` : sh`printf %s ${opts.secret ? new Secret(b64) : b64} | base64 -d > ${tmp}`;
  const keep = opts.backup ? sh` && { [ ! -f ${path} ] || cp ${path} ${path}.cairn-bak.$(date +%s); }` : sh``;
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  return sh`( ${produce} && { sync ${tmp} 2>/dev/null || sync; }${keep} && mv -f ${tmp} ${path} && { sync ${dir} 2>/dev/null || sync; } ) || { rm -f ${tmp}; exit 1; }`;
}

function diffOf(path: string, state: PathState, wanted: Buffer, hidden: boolean): string {
  const header = `--- ${path} (host)\n+++ ${path} (wanted)\n`;
  const oldSize = state.type === 'file' ? `${state.size ?? '?'} bytes` : 'absent';
  if (hidden) return mask(`${header}(secret content not shown: ${oldSize} -> ${wanted.length} bytes)`);
  const before = state.type === 'file' ? (state.content ? asText(state.content) : undefined) : '';
  const after = asText(wanted);
  if (before === undefined || after === undefined) return mask(`${header}(binary or large content not shown: ${oldSize} -> ${wanted.length} bytes)`);
  return mask(unifiedDiff(state.type === 'file' ? before : undefined, after, { path }));
}
