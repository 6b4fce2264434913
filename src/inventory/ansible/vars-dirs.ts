import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { InputProblem } from '../../core/errors.ts';
import { isPlainMap } from '../plain-map.ts';
import { assignVars, emptyVars, type LocatedVars } from './model.ts';
import { varsAt } from './vars-at.ts';
import { readYamlFile } from './yaml-file.ts';

const EXTENSIONS = ['', '.yml', '.yaml', '.json'];

export interface DirVars {
  vars: LocatedVars;
  problems: InputProblem[];
}

/**
 * The vars of host or group `name` from `<dir>/host_vars` or `<dir>/group_vars`:
 * `<name>`, `<name>.yml`, `<name>.yaml`, `<name>.json`, or every .yml/.yaml/.json
 * file under the directory `<name>/` (sorted by path; a later file wins).
 */
export function readVarsDir(dir: string, kind: 'host_vars' | 'group_vars', name: string, env?: NodeJS.ProcessEnv): DirVars {
  const out: DirVars = { vars: emptyVars(), problems: [] };
  for (const file of varsFiles(join(dir, kind), name)) {
    const read = readVarsFile(file, env);
    out.problems.push(...read.problems);
    assignVars(out.vars, read.vars);
  }
  return out;
}

function varsFiles(base: string, name: string): string[] {
  const files: string[] = [];
  for (const ext of EXTENSIONS) {
    const path = join(base, name + ext);
    const kind = kindOf(path);
    if (kind === 'file') files.push(path);
    else if (kind === 'dir' && ext === '') files.push(...filesUnder(path));
  }
  return files;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .flatMap((f) => {
      const path = join(dir, f);
      const kind = kindOf(path);
      if (kind === 'dir') return filesUnder(path);
      return kind === 'file' && /\.(ya?ml|json)$/.test(f) ? [path] : [];
    });
}

function kindOf(path: string): 'file' | 'dir' | undefined {
  try {
    const s = statSync(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

function readVarsFile(file: string, env?: NodeJS.ProcessEnv): DirVars {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { vars: emptyVars(), problems: [{ location: { file }, message: `cannot read the vars file: ${(err as Error).message}`, fix: 'make it readable, or remove it' }] };
  }
  const yaml = readYamlFile(text, file, env);
  if (yaml.data === undefined || yaml.data === null) return { vars: emptyVars(), problems: yaml.problems };
  if (!isPlainMap(yaml.data)) {
    return {
      vars: emptyVars(),
      problems: [...yaml.problems, { location: yaml.source.ofNode(undefined), message: 'a vars file must be a map of name: value', fix: 'write one variable a line, e.g.\n  ntp_server: pool.ntp.org' }],
    };
  }
  return { vars: varsAt(yaml.source, [], yaml.data), problems: yaml.problems };
}
