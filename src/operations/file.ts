import { readLocalFile, sha256Once } from '../core/local-file.ts';
import { Secret, bytesHoldSecret, mask } from '../core/secret.ts';
import { sh } from '../shell/sh.ts';
import { checkId, paramError, paramNames, rejectUnknownParams } from './kit.ts';
import { change, fail, leaving, noop, type Operation, type Plan } from './operation.ts';
import { unifiedDiff } from './diff.ts';
import { checkAbsPath, checkBoolean, checkAttributes, checkState } from './path-params.ts';
import { attributeDrift, fixAttributes, keepAttributes, type Attributes } from './attributes.ts';
import { DIFF_MAX_BYTES, INLINE_MAX_BYTES, asText, textContent, writeFileCommands, type ControllerFile } from './file-content.ts';
import { pathOperation } from './path-operation.ts';
import { attributesEffect, predictFile, PREDICTED_ABSENT } from './predict.ts';
import type { PathState } from '../facts/path-state.ts';

export interface FileParams {
  readonly id: string;
  /** Absolute path on the host. */
  readonly path: string;
  /**
   * present (default): the file exists with this content (or, with neither content
   * nor src, an existing file gets mode/owner/group and keeps its content);
   * absent: removed (a file or link is kept as `<path>.cairn-bak.<epoch>` unless
   * backup: false; a directory is removed with everything in it).
   */
  readonly state?: 'present' | 'absent';
  /**
   * The wanted content (at most one of content / src). A Secret (or secretText`...`)
   * reaches the host unmasked and is never shown. Text holding the mask alone
   * ('pw=' + secret) is refused; a Buffer is taken as it is.
   */
  readonly content?: string | Buffer | Secret;
  /** A file on the controller whose bytes are the wanted content. Read once per run and only when the host needs it; its sha256 is remembered across runs in the cache directory (`<cache>/local-sha256`) while its inode, size, mtime and ctime stay the same. */
  readonly src?: string;
  /** Octal mode such as '0644'. Unset: an existing file keeps its mode, a new one gets 0644. */
  readonly mode?: string;
  /** Unset: an existing file keeps its owner, a new one belongs to the connecting user. */
  readonly owner?: string | number;
  readonly group?: string | number;
  /** Keep the replaced file as `<path>.cairn-bak.<epoch>` (default true). */
  readonly backup?: boolean;
  readonly notify?: readonly string[];
  /** Never show the content (diff hidden). Implied when content is a Secret or holds secret text. */
  readonly secret?: boolean;
}

const KIND = 'file';
const PARAMS = paramNames<FileParams>({ id: true, path: true, state: true, content: true, src: true, mode: true, owner: true, group: true, backup: true, notify: true, secret: true });

/**
 * A regular file with exact content, mode and ownership. The probe reads the file's
 * hash, mode and owner (and the content itself when it is small text, to show a
 * diff); the write is atomic (temp + rename, backup of the old file).
 */
export function file(params: FileParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const path = checkAbsPath(KIND, id, 'path', params.path);
  const state = checkState(KIND, id, params.state ?? 'present');
  const want = checkAttributes(KIND, id, params);
  const backup = checkBoolean(KIND, id, 'backup', params.backup) ?? true;
  if (state === 'absent') {
    if (params.content !== undefined || params.src !== undefined || want.mode || want.owner || want.group) {
      throw paramError(KIND, id, 'state', 'absent takes no content, src, mode, owner or group', 'remove them, or use state: present');
    }
    if (path.split('/').filter(Boolean).length < 2) {
      throw paramError(KIND, id, 'path', `${JSON.stringify(path)} is too close to / to remove`, 'give a path of at least two components, e.g. /etc/app.conf');
    }
    return absentFile(id, path, backup, params.notify);
  }
  if (params.content !== undefined && params.src !== undefined) {
    throw paramError(KIND, id, 'content', 'and `src` are exclusive', 'give the content inline, or src: a file on the controller');
  }
  if (params.content === undefined && params.src === undefined) {
    if (!want.mode && !want.owner && !want.group) {
      throw paramError(KIND, id, 'content', 'or `src` is required (or mode/owner/group for an existing file)', 'give the content inline, src: a file on the controller, or the attributes to set');
    }
    return fileAttributes(id, path, want, params.notify);
  }
  // a local src is read only when a change needs its bytes (its hash is known before)
  let wantedBytes: () => Buffer;
  let wantedHash: string;
  /** A src too big to travel inside a command: sent from the file, never read here. */
  let unread: ControllerFile | undefined;
  let secret = checkBoolean(KIND, id, 'secret', params.secret) ?? false;
  if (params.src !== undefined) {
    if (typeof params.src !== 'string' || params.src === '') {
      throw paramError(KIND, id, 'src', `must be a path on the controller, got ${JSON.stringify(params.src)}`, 'give the path of a local file');
    }
    try {
      const local = readLocalFile(params.src);
      wantedBytes = () => local.content();
      wantedHash = local.sha256;
      if (local.size > INLINE_MAX_BYTES) unread = { file: local.path, size: local.size, stamp: local.stamp };
    } catch (err) {
      throw paramError(KIND, id, 'src', `cannot be read (${(err as Error).message})`, 'check the path on the controller');
    }
  } else if (textContent(KIND, id, params.content)) {
    const text = textContent(KIND, id, params.content)!;
    const bytes = text.bytes;
    wantedBytes = () => bytes;
    wantedHash = sha256Once(bytes);
    secret ||= text.secret;
  } else if (Buffer.isBuffer(params.content)) {
    const bytes = Buffer.from(params.content);
    wantedBytes = () => bytes;
    wantedHash = sha256Once(bytes);
  } else {
    throw paramError(KIND, id, 'content', `must be a string, Buffer or Secret, got ${typeof params.content}`, 'give the file content as text');
  }

  return pathOperation(KIND, id, path, { notify: params.notify, probe: { contentMax: DIFF_MAX_BYTES } }, (state): Plan => {
    if (state.type === 'dir') return fail(`${KIND} '${id}': ${path} is a directory, not a file`);
    if (state.type === 'other') return fail(`${KIND} '${id}': ${path} exists and is not a regular file`);
    const drift = attributeDrift(state, want);
    if (state.type === 'file' && state.sha256 === wantedHash) {
      if (drift.length === 0) return noop(`${path} already has the wanted content${want.mode || want.owner || want.group ? ' and attributes' : ''}`);
      return leaving(change(`${path}: ${drift.join(', ')}`, fixAttributes(path, state, want)), attributesEffect(path, want));
    }
    const verb = state.type === 'absent' ? 'create' : state.type === 'link' ? 'replace symlink' : 'update';
    const attrs = keepAttributes(state, want);
    const write = { ...attrs, backup: backup && !state.pending };
    if (unread) {
      // above INLINE_MAX_BYTES its content is never shown (no diff, no command text): not read to look for secrets
      const commands = writeFileCommands(path, unread, { ...write, secret, description: `${path} (${unread.size} bytes from ${unread.file})` });
      return leaving(change(`${verb} ${path}`, commands, contentDiff(path, state, unread.size, secret)), { path, kind: 'state', state: predictFile({ size: unread.size, sha256: wantedHash }, attrs, state), from: state, secret });
    }
    const wanted = wantedBytes();
    const hidden = secret || bytesHoldSecret(wanted);
    const commands = writeFileCommands(path, wanted, {
      ...write,
      secret: hidden,
      description: hidden ? `${path} (secret content, ${wanted.length} bytes)` : `${path} (${wanted.length} bytes)`,
    });
    return leaving(change(`${verb} ${path}`, commands, contentDiff(path, state, wanted, hidden)), { path, kind: 'state', state: predictFile(wanted, attrs, state), from: state, secret: hidden });
  });
}

/** `file` with only mode/owner/group: an existing path's attributes, its content untouched. */
function fileAttributes(id: string, path: string, want: Attributes, notify: readonly string[] | undefined): Operation {
  return pathOperation(KIND, id, path, { notify, probe: { hash: false } }, (state): Plan => {
    if (state.type === 'absent') return fail(`${KIND} '${id}': ${path} does not exist; give content or src to create it`);
    if (state.type === 'dir') return fail(`${KIND} '${id}': ${path} is a directory; use the directory operation for its attributes`);
    const drift = attributeDrift(state, want);
    if (drift.length === 0) return noop(`${path} has the wanted attributes`);
    return leaving(change(`${path}: ${drift.join(', ')}`, fixAttributes(path, state, want)), attributesEffect(path, want));
  });
}

/** `file` with state: absent. */
function absentFile(id: string, path: string, backup: boolean, notify: readonly string[] | undefined): Operation {
  return pathOperation(KIND, id, path, { notify, probe: { hash: false } }, (state): Plan => {
    const gone = { path, kind: 'state', state: PREDICTED_ABSENT, tree: true } as const;
    if (state.type === 'absent') return noop(`${path} is already absent`);
    if (state.type === 'dir') return leaving(change(`remove directory ${path}`, [sh`rm -rf ${path}`]), gone);
    // a file the host had is kept as a backup; one an earlier step of this run wrote is not
    const keep = backup && !state.pending && state.type === 'file';
    const cmd = keep ? sh`mv -f ${path} ${path}.cairn-bak.$(date +%s)` : sh`rm -f ${path}`;
    return leaving(change(`remove ${path}${keep ? ' (kept as a .cairn-bak file)' : ''}`, [cmd]), gone);
  });
}

/** The diff shown for a content change, masked; a summary when it cannot be shown. */
function contentDiff(path: string, state: PathState, wanted: Buffer | number, hidden: boolean): string {
  const header = `--- ${path} (host)\n+++ ${path} (wanted)\n`;
  const oldSize = state.type === 'file' ? `${state.size ?? '?'} bytes` : state.type === 'link' ? `symlink to ${state.target ?? '?'}` : 'absent';
  const size = typeof wanted === 'number' ? wanted : wanted.length;
  if (hidden) return mask(`${header}(secret content not shown: ${oldSize} -> ${size} bytes)`);
  const after = typeof wanted !== 'number' && wanted.length <= DIFF_MAX_BYTES ? asText(wanted) : undefined;
  const before = state.type === 'file' ? (state.content ? asText(state.content) : undefined) : '';
  if (after === undefined || before === undefined) {
    return mask(`${header}(binary or large content not shown: ${oldSize} -> ${size} bytes)`);
  }
  return mask(unifiedDiff(state.type === 'file' ? before : undefined, after, { path }));
}
