import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Secret, isSecret, mask } from '../core/secret.ts';
import { checkId, paramError } from './kit.ts';
import { change, fail, noop, type Operation, type Plan } from './operation.ts';
import { unifiedDiff } from './diff.ts';
import { checkAbsPath, checkBoolean, checkAttributes } from './path-params.ts';
import { attributeDrift, fixAttributes, keepAttributes } from './attributes.ts';
import { DIFF_MAX_BYTES, asText, holdsSecret, writeFileCommands } from './file-content.ts';
import { pathOperation } from './path-operation.ts';
import type { PathState } from '../facts/path-state.ts';

export interface FileParams {
  readonly id: string;
  /** Absolute path on the host. */
  readonly path: string;
  /** The wanted content (exactly one of content / src). */
  readonly content?: string | Buffer | Secret;
  /** A file on the controller whose bytes are the wanted content. */
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

/**
 * A regular file with exact content, mode and ownership. The probe reads the file's
 * hash, mode and owner (and the content itself when it is small text, to show a
 * diff); the write is atomic (temp + rename, backup of the old file).
 */
export function file(params: FileParams): Operation {
  const id = checkId(KIND, params.id);
  const path = checkAbsPath(KIND, id, 'path', params.path);
  if ((params.content === undefined) === (params.src === undefined)) {
    throw paramError(KIND, id, 'content', 'and `src` are exclusive and one is required', 'give the content inline, or src: a file on the controller');
  }
  let wanted: Buffer;
  let secret = checkBoolean(KIND, id, 'secret', params.secret) ?? false;
  if (params.src !== undefined) {
    if (typeof params.src !== 'string' || params.src === '') {
      throw paramError(KIND, id, 'src', `must be a path on the controller, got ${JSON.stringify(params.src)}`, 'give the path of a local file');
    }
    try {
      wanted = readFileSync(params.src);
    } catch (err) {
      throw paramError(KIND, id, 'src', `cannot be read (${(err as Error).message})`, 'check the path on the controller');
    }
  } else if (isSecret(params.content)) {
    wanted = Buffer.from(params.content.reveal());
    secret = true;
  } else if (typeof params.content === 'string' || Buffer.isBuffer(params.content)) {
    wanted = Buffer.from(params.content);
  } else {
    throw paramError(KIND, id, 'content', `must be a string, Buffer or Secret, got ${typeof params.content}`, 'give the file content as text');
  }
  const want = checkAttributes(KIND, id, params);
  const backup = checkBoolean(KIND, id, 'backup', params.backup) ?? true;
  const wantedHash = createHash('sha256').update(wanted).digest('hex');

  return pathOperation(KIND, id, path, { notify: params.notify, probe: { contentMax: DIFF_MAX_BYTES } }, (state): Plan => {
    if (state.type === 'dir') return fail(`${KIND} '${id}': ${path} is a directory, not a file`);
    if (state.type === 'other') return fail(`${KIND} '${id}': ${path} exists and is not a regular file`);
    const hidden = secret || holdsSecret(wanted.toString('utf8'));
    const drift = attributeDrift(state, want);
    if (state.type === 'file' && state.sha256 === wantedHash) {
      if (drift.length === 0) return noop(`${path} already has the wanted content${want.mode || want.owner || want.group ? ' and attributes' : ''}`);
      return change(`${path}: ${drift.join(', ')}`, fixAttributes(path, state, want));
    }
    const verb = state.type === 'absent' ? 'create' : state.type === 'link' ? 'replace symlink' : 'update';
    const commands = writeFileCommands(path, wanted, {
      ...keepAttributes(state, want),
      backup,
      secret: hidden,
      description: hidden ? `${path} (secret content, ${wanted.length} bytes)` : `${path} (${wanted.length} bytes)`,
    });
    return change(`${verb} ${path}`, commands, contentDiff(path, state, wanted, hidden));
  });
}

/** The diff shown for a content change, masked; a summary when it cannot be shown. */
function contentDiff(path: string, state: PathState, wanted: Buffer, hidden: boolean): string {
  const header = `--- ${path} (host)\n+++ ${path} (wanted)\n`;
  const oldSize = state.type === 'file' ? `${state.size ?? '?'} bytes` : state.type === 'link' ? `symlink to ${state.target ?? '?'}` : 'absent';
  if (hidden) return mask(`${header}(secret content not shown: ${oldSize} -> ${wanted.length} bytes)`);
  const after = wanted.length <= DIFF_MAX_BYTES ? asText(wanted) : undefined;
  const before = state.type === 'file' ? (state.content ? asText(state.content) : undefined) : '';
  if (after === undefined || before === undefined) {
    return mask(`${header}(binary or large content not shown: ${oldSize} -> ${wanted.length} bytes)`);
  }
  return mask(unifiedDiff(state.type === 'file' ? before : undefined, after, { path }));
}
