import { createHash } from 'node:crypto';
import { sh, type ShellCommand } from '../shell/sh.ts';
import { change, fail, leaving, noop, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, paramNames, rejectCoercedSecret, rejectUnknownParams } from './kit.ts';
import { atomicInstall } from './atomic-write.ts';
import { unifiedDiff } from './diff.ts';
import { checkAbsPath, checkAttributes } from './path-params.ts';
import { attributeDrift, fixAttributes, keepAttributes } from './attributes.ts';
import { DIFF_MAX_BYTES, INLINE_MAX_BYTES, asText } from './file-content.ts';
import { pathOperation } from './path-operation.ts';
import { attributesEffect, predictFile } from './predict.ts';

export interface CheckedFileParams {
  readonly id: string;
  readonly path: string;
  /** The wanted text (configuration files: small, never secret). */
  readonly content: string;
  /**
   * The check the new content must pass before it replaces the file, given the
   * temp file's path on the host (next to `path`), e.g.
   * `(tmp) => sh\`unbound-checkconf ${tmp}\``. Non-zero: the old file stays.
   */
  readonly validate: (tmpPath: string) => ShellCommand;
  readonly mode?: string;
  readonly owner?: string | number;
  readonly group?: string | number;
  readonly notify?: readonly string[];
}

const KIND = 'checkedFile';
const PARAMS = paramNames<CheckedFileParams>({ id: true, path: true, content: true, validate: true, mode: true, owner: true, group: true, notify: true });

/**
 * A configuration file written only if it passes a check first (like Ansible's
 * `validate:`): the new content goes to `<path>.cairn-tmp`, the check runs on
 * it, and only then the old file is backed up and the temp renamed into place.
 * A rejected config never lands, so a later restart or reboot cannot pick it up.
 */
export function checkedFile(params: CheckedFileParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const path = checkAbsPath(KIND, id, 'path', params.path);
  if (typeof params.content !== 'string') throw paramError(KIND, id, 'content', `must be text, got ${typeof params.content}`, 'render the configuration to a string');
  rejectCoercedSecret(KIND, id, 'content', params.content);
  if (Buffer.byteLength(params.content) > INLINE_MAX_BYTES) throw paramError(KIND, id, 'content', `is larger than ${INLINE_MAX_BYTES} bytes`, 'use the file operation for large files');
  if (typeof params.validate !== 'function') throw paramError(KIND, id, 'validate', 'must be a function of the temp path returning a command', 'e.g. validate: (tmp) => sh`unbound-checkconf ${tmp}`');
  const want = checkAttributes(KIND, id, params);
  const wanted = Buffer.from(params.content);
  const wantedHash = createHash('sha256').update(wanted).digest('hex');
  const tmp = `${path}.cairn-tmp`;
  const check = params.validate(tmp);

  return pathOperation(KIND, id, path, { notify: params.notify, probe: { contentMax: DIFF_MAX_BYTES } }, (state): Plan => {
    if (state.type !== 'file' && state.type !== 'absent') return fail(`${KIND} '${id}': ${path} exists and is not a regular file`);
    if (state.type === 'file' && state.sha256 === wantedHash) {
      const drift = attributeDrift(state, want);
      if (drift.length === 0) return noop(`${path} already has the wanted content`);
      return leaving(change(`${path}: ${drift.join(', ')}`, fixAttributes(path, state, want)), attributesEffect(path, want));
    }
    const produce = sh`printf %s ${wanted.toString('base64')} | base64 -d > ${tmp} && { ${check} || { echo ${`cairn: the new ${path} failed its check (${check.display}); the old file is kept`} >&2; exit 1; }; }`;
    const before = state.type === 'file' && state.content ? asText(state.content) : undefined;
    const attrs = keepAttributes(state, want);
    return leaving(
      change(
        `${state.type === 'absent' ? 'create' : 'update'} ${path} (checked with ${check.display.replace(tmp, '<new>')})`,
        [atomicInstall(produce, tmp, path, { ...attrs, backup: !state.pending })],
        unifiedDiff(before, params.content, { path }),
      ),
      { path, kind: 'state', state: predictFile(wanted, attrs, state) },
    );
  });
}
