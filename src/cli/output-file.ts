import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../core/errors.ts';

/**
 * A file a flag writes (`--junit FILE`, `--log FILE`): its directory must exist and
 * be writable and the file must not be a directory, checked before any connection
 * so a typo is exit 64 and not a lost report after the run. Returns the absolute path.
 */
export function checkOutputFile(flag: string, file: string): string {
  const path = resolve(file);
  const dir = dirname(path);
  const fail = (why: string, fix: string): never => {
    throw new UsageError(`${flag} ${file}: ${why}\n  fix: ${fix}`);
  };
  try {
    if (statSync(path).isDirectory()) fail('is a directory', `name a file, e.g. ${flag} ${file.replace(/\/?$/, '/')}cairn.${flag === '--junit' ? 'xml' : 'log'}`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
  }
  try {
    if (!statSync(dir).isDirectory()) fail(`${dir} is not a directory`, 'name a file in an existing directory');
    accessSync(dir, constants.W_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    fail(code === 'ENOENT' ? `directory ${dir} does not exist` : `cannot write in ${dir} (${code ?? (err as Error).message})`, `create the directory first (mkdir -p ${dir}) or name a file in an existing one`);
  }
  return path;
}
