import { readFileSync } from 'node:fs';
import { packagePath } from '../core/package-root.ts';

/** cairn's version, from its package.json (src/cli/bin.js answers --version alone without loading TypeScript). */
export function cairnVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}
