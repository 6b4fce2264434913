import { sh } from '../shell/sh.ts';
import { checkId, paramError, paramNames, rejectUnknownParams } from './kit.ts';
import { change, fail, leaving, noop, type Operation, type PathEffect, type Plan } from './operation.ts';
import { checkAbsPath, checkBoolean } from './path-params.ts';
import { pathOperation } from './path-operation.ts';

export interface SymlinkParams {
  readonly id: string;
  /** The link to create (absolute). */
  readonly path: string;
  /** What it points to, written as given (absolute or relative to the link's directory). */
  readonly target: string;
  /** Replace a regular file (or another file type, not a directory) found at `path`. */
  readonly force?: boolean;
  readonly notify?: readonly string[];
}

const KIND = 'symlink';
const PARAMS = paramNames<SymlinkParams>({ id: true, path: true, target: true, force: true, notify: true });

/**
 * A symbolic link `path -> target`. A link with another target is repointed
 * (`ln -sfn`, which does not follow an existing link to a directory). A file at
 * `path` is replaced only with `force`; a directory never.
 *
 * @example
 * symlink({ id: 'nomad-bin', path: '/usr/bin/nomad', target: '/usr/local/bin/nomad' })
 */
export function symlink(params: SymlinkParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const path = checkAbsPath(KIND, id, 'path', params.path);
  if (path === '/') throw paramError(KIND, id, 'path', 'cannot be /', 'give the path of the link');
  const target = params.target;
  if (typeof target !== 'string' || target === '' || target.includes('\0') || target.includes('\n')) {
    throw paramError(KIND, id, 'target', `must be a non-empty path without newlines, got ${JSON.stringify(target)}`, 'give what the link points to');
  }
  const force = checkBoolean(KIND, id, 'force', params.force) ?? false;

  return pathOperation(KIND, id, path, { notify: params.notify, probe: { hash: false } }, (st): Plan => {
    const link = sh`ln -sfn -- ${target} ${path}`;
    // what the link resolves to is not known on the controller
    const made: PathEffect = { path, kind: 'state', state: { type: 'link', target, pending: true } };
    switch (st.type) {
      case 'absent':
        return leaving(change(`create ${path} -> ${target}`, [link]), made);
      case 'link':
        if (st.target === target) return noop(`${path} already points to ${target}`);
        return leaving(change(`repoint ${path}: ${st.target ?? '?'} -> ${target}`, [link]), made);
      case 'dir':
        return fail(`${KIND} '${id}': ${path} is a directory; remove it first (a directory is never replaced by a link)`);
      default:
        if (!force) return fail(`${KIND} '${id}': ${path} exists and is not a symlink; set force: true to replace it`);
        return leaving(change(`replace ${path} with a link to ${target}`, [sh`rm -f ${path}`, link]), made);
    }
  });
}
