import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** cairn's npm package name: what roles import (`import { defineRole } from 'cairn-provision'`). */
export const CAIRN_PACKAGE = 'cairn-provision';

/**
 * Is this copy of cairn the compiled JavaScript (dist/, an installed package) rather
 * than the TypeScript sources of a git checkout run through tsx?
 */
export const compiled = import.meta.url.endsWith('.js');

/**
 * The folder holding cairn's package.json, roles/ and templates/: the repository,
 * or the installed package. Sources live in <root>/src/, the build in <root>/dist/src/.
 */
export const packageRoot = fileURLToPath(new URL(compiled ? '../../../' : '../../', import.meta.url));

/** A path inside cairn's package. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot, ...parts);
}
