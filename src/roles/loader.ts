import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InputProblem } from '../core/errors.ts';
import { CAIRN_PACKAGE, compiled, packagePath } from '../core/package-root.ts';
import type { RoleDefinition } from './role.ts';

/**
 * cairn's built-in roles: <package>/roles/<name>/index.ts, their templates beside them.
 * The installed package runs them compiled, from <package>/dist/roles/<name>/index.js.
 */
export const builtinRolesDir = packagePath('roles');

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

/** The module to import for a role: a built-in role's compiled JavaScript when cairn runs compiled. */
function moduleOf(dir: string, file: string, builtin: boolean): string {
  if (!builtin || !compiled) return file;
  const js = packagePath('dist', 'roles', relative(builtinRolesDir, dir), 'index.js');
  return existsSync(js) ? js : file;
}

let tsxRegistered = false;
/**
 * TypeScript roles need tsx when cairn itself runs compiled (the installed package);
 * a git checkout runs under tsx already. Registered once, on the first .ts role.
 */
async function loadTypeScript(file: string): Promise<void> {
  if (!compiled || tsxRegistered || !/\.[mc]?ts$/.test(file)) return;
  const { register } = await import('tsx/esm/api');
  register();
  tsxRegistered = true;
}

/** The package a failed import could not find: `Cannot find package 'x' imported from ...`. */
function missingPackage(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown };
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || typeof e.message !== 'string') return undefined;
  return /^Cannot find package '([^']+)'/.exec(e.message)?.[1];
}

/** The problem of a role whose import of cairn's package (or another one) cannot be resolved. */
function missingPackageProblem(name: string, file: string, pkg: string): InputProblem {
  const shown = relative(process.cwd(), file) || file;
  const from = dirname(file);
  if (pkg === CAIRN_PACKAGE) {
    return {
      location: { file },
      message: `role '${name}': ${shown} imports '${pkg}', which cannot be found from ${from}`,
      fix: `run \`npm i -D ${pkg}\` in the project holding the role (or start one with \`cairn init\`)`,
    };
  }
  if (pkg === 'cairn') {
    return {
      location: { file },
      message: `role '${name}': ${shown} imports 'cairn', which is not this package: cairn is published as '${CAIRN_PACKAGE}'`,
      fix: `import from '${CAIRN_PACKAGE}' (and \`npm i -D ${CAIRN_PACKAGE}\` in the project holding the role)`,
    };
  }
  return {
    location: { file },
    message: `role '${name}': ${shown} imports '${pkg}', which cannot be found from ${from}`,
    fix: `run \`npm i ${pkg}\` in the project holding the role`,
  };
}

/**
 * Load roles by name. User roles are TypeScript modules loaded without a build
 * step (through tsx, registered when the first one loads). Problems are returned, not thrown, so they can be
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
    const builtin = dir.startsWith(builtinRolesDir + sep);
    try {
      const module = moduleOf(dir, file, builtin);
      await loadTypeScript(module);
      const mod = (await import(pathToFileURL(resolve(module)).href)) as { default?: RoleDefinition };
      const def = mod.default;
      if (!def || typeof def.steps !== 'function' || typeof def.name !== 'string') {
        problems.push({
          location: { file },
          message: `role '${name}' does not export a role definition`,
          fix: `export default defineRole({ name: '${name}', steps(ctx) { return [...] } })`,
        });
        continue;
      }
      roles.set(name, { def, dir, file, builtin });
    } catch (err) {
      const pkg = missingPackage(err);
      if (pkg) problems.push(missingPackageProblem(name, file, pkg));
      else problems.push({ location: { file }, message: `role '${name}' failed to load: ${(err as Error).message}`, fix: 'fix the error in the role module' });
    }
  }
  return { roles, problems };
}
