import { sh } from '../shell/sh.ts';
import { checkId, paramError, paramNames, rejectUnknownParams } from './kit.ts';
import { change, fail, leaving, noop, type Operation, type Plan } from './operation.ts';
import { checkAbsPath, checkAttributes, checkState } from './path-params.ts';
import { attributeDrift, fixAttributes } from './attributes.ts';
import { pathOperation } from './path-operation.ts';
import { attributesEffect, attributesPatch, PREDICTED_ABSENT } from './predict.ts';

export interface DirectoryParams {
  readonly id: string;
  readonly path: string;
  /** Octal mode string such as '0755'. */
  readonly mode?: string;
  readonly owner?: string | number;
  readonly group?: string | number;
  /** present (default): exists with the attributes; absent: removed with everything in it. */
  readonly state?: 'present' | 'absent';
  readonly notify?: readonly string[];
}

const KIND = 'directory';
const PARAMS = paramNames<DirectoryParams>({ id: true, path: true, mode: true, owner: true, group: true, state: true, notify: true });

/**
 * A directory (with parents) and its mode/owner/group, or its removal. Removal
 * refuses `/` and paths of fewer than two components (`/etc`, `/usr`...).
 * A symlink to a directory counts as the directory (its target gets the attributes).
 */
export function directory(params: DirectoryParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const path = checkAbsPath(KIND, id, 'path', params.path);
  const state = checkState(KIND, id, params.state ?? 'present');
  const want = checkAttributes(KIND, id, params);
  if (state === 'absent') {
    if (path.split('/').filter(Boolean).length < 2) {
      throw paramError(KIND, id, 'path', `${JSON.stringify(path)} is too close to / to remove`, 'give a path of at least two components, e.g. /opt/app');
    }
    if (want.mode || want.owner || want.group) {
      throw paramError(KIND, id, 'state', 'absent takes no mode/owner/group', 'remove mode, owner and group, or use state: present');
    }
  }

  return pathOperation(KIND, id, path, { notify: params.notify, probe: { hash: false } }, (st): Plan => {
    const isDir = st.type === 'dir' || (st.type === 'link' && st.resolved === 'dir');
    if (state === 'absent') {
      if (st.type === 'absent') return noop(`${path} is already absent`);
      if (st.type !== 'dir') return fail(`${KIND} '${id}': ${path} is a ${st.type === 'link' ? 'symlink' : 'file'}, not a directory; refusing to remove it`);
      return leaving(change(`remove ${path}`, [sh`rm -rf ${path}`]), { path, kind: 'state', state: PREDICTED_ABSENT, tree: true });
    }
    if (st.type === 'absent') {
      const cmds = [sh`mkdir -p ${path}`];
      if (want.owner || want.group) cmds.push(sh`chown ${`${want.owner ?? ''}${want.group ? `:${want.group}` : ''}`} ${path}`);
      if (want.mode) cmds.push(sh`chmod ${want.mode} ${path}`);
      // mkdir -p: 0755 under the usual umask 022, owned by the connecting user unless given
      const made = { type: 'dir', mode: 0o755, pending: true, ...attributesPatch(want) } as const;
      return leaving(change(`create ${path}`, cmds), { path, kind: 'state', state: made });
    }
    if (!isDir) return fail(`${KIND} '${id}': ${path} exists and is not a directory (${st.type === 'link' ? `symlink to ${st.target ?? '?'}` : st.type})`);
    const drift = attributeDrift(st, want);
    if (drift.length === 0) return noop(`${path} exists${want.mode || want.owner || want.group ? ' with the wanted attributes' : ''}`);
    return leaving(change(`${path}: ${drift.join(', ')}`, fixAttributes(path, st, want)), attributesEffect(path, want));
  });
}
