import { readFileSync } from 'node:fs';

/** cairn's version, from its package.json (src/cli/bin.js answers --version alone without loading TypeScript). */
export function cairnVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
