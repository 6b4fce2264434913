import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { InputProblem } from '../core/errors.ts';
import type { RoleDefinition } from './role.ts';

/** cairn's built-in roles: <repo>/roles/<name>/index.ts */
export const builtinRolesDir = fileURLToPath(new URL('../../roles/', import.meta.url));

export interface LoadedRole {
  def: RoleDefinition;
  /** Folder of the role (its templates/ live here). */
  dir: string;
  /** The role's module (index.ts, ...): where problems in its steps are reported. */
  file: string;
  builtin: boolean;
}

/** Role folders to search, first wins: user roles next to the inventory, then built-ins. */
export function roleSearchPath(inventoryDir: string): string[] {
  return [join(inventoryDir, 'roles'), builtinRolesDir];
}

function roleFile(dir: string): string | undefined {
  for (const f of ['index.ts', 'index.mts', 'index.js', 'index.mjs']) if (existsSync(join(dir, f))) return join(dir, f);
  return undefined;
}

/** Names of every role that can be loaded. */
export function knownRoles(inventoryDir: string): Set<string> {
  const names = new Set<string>();
  for (const base of roleSearchPath(inventoryDir)) {
    if (!existsSync(base)) continue;
    for (const n of readdirSync(base)) {
      const d = join(base, n);
      if (statSync(d).isDirectory() && roleFile(d)) names.add(n);
    }
  }
  return names;
}

/** Is this file loaded as an ES module (by extension or the nearest package.json's "type")? */
function isEsm(file: string): boolean {
  if (/\.m[tj]s$/.test(file)) return true;
  let dir = dirname(realpathSync(file));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        return (JSON.parse(readFileSync(pj, 'utf8')) as { type?: string }).type === 'module';
      } catch {
        return false;
      }
    }
    const up = dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

/**
 * Load roles by name. User roles are TypeScript modules loaded without a build
 * step (cairn runs under tsx). Problems are returned, not thrown, so they can be
 * reported together with every other input problem.
 */
export async function loadRoles(
  names: readonly string[],
  inventoryDir: string,
  inventoryFile: string,
): Promise<{ roles: Map<string, LoadedRole>; problems: InputProblem[] }> {
  const roles = new Map<string, LoadedRole>();
  const problems: InputProblem[] = [];
  for (const name of new Set(names)) {
    const search = roleSearchPath(inventoryDir);
    const dir = search.map((b) => join(b, name)).find((d) => roleFile(d));
    if (!dir) {
      problems.push({
        location: { file: inventoryFile },
        message: `role '${name}' not found (looked in ${search.join(', ')})`,
        fix: `create ${join(search[0]!, name, 'index.ts')} or use one of: ${[...knownRoles(inventoryDir)].sort().join(', ')}`,
      });
      continue;
    }
    const file = roleFile(dir)!;
    if (!isEsm(file)) {
      problems.push({
        location: { file },
        message: `role '${name}' would load as CommonJS: roles are ES modules`,
        fix: `rename it to ${join(dir, 'index.mts')}, or put a package.json with {"type": "module"} next to the inventory`,
      });
      continue;
    }
    try {
      const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: RoleDefinition };
      const def = mod.default;
      if (!def || typeof def.steps !== 'function' || typeof def.name !== 'string') {
        problems.push({
          location: { file },
          message: `role '${name}' does not export a role definition`,
          fix: `export default defineRole({ name: '${name}', steps(ctx) { return [...] } })`,
        });
        continue;
      }
      roles.set(name, { def, dir, file, builtin: dir.startsWith(builtinRolesDir) });
    } catch (err) {
      problems.push({ location: { file }, message: `role '${name}' failed to load: ${(err as Error).message}`, fix: 'fix the error in the role module' });
    }
  }
  return { roles, problems };
}
