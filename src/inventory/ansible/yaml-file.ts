import { LineCounter, parseDocument, type ScalarTag } from 'yaml';
import type { InputProblem } from '../../core/errors.ts';
import { yamlProblems } from '../yaml-problems.ts';
import { YamlSource } from '../yaml-source.ts';
import { secretTags } from '../yaml-tags.ts';

/** Message start of an ansible-vault value (to give it its own fix). */
const VAULT = 'ansible-vault';

/** Ansible's own tags: `!unsafe` text is plain text to cairn; `!vault` cannot be read. */
function ansibleTags(): ScalarTag[] {
  return [
    { tag: '!unsafe', resolve: (text) => text },
    {
      tag: '!vault',
      resolve: (_text, onError) => {
        onError(`${VAULT} encrypted value: cairn cannot decrypt it`);
        return '';
      },
    },
  ];
}

export interface YamlFile {
  /** undefined when the text is not usable YAML (see problems). */
  data?: unknown;
  source: YamlSource;
  problems: InputProblem[];
}

/**
 * One YAML file of an Ansible inventory (the inventory itself or a vars file),
 * with cairn's secret tags and Ansible's !unsafe and !vault. Syntax problems
 * leave `data` undefined; tag problems are reported and the rest is kept.
 */
export function readYamlFile(text: string, file: string, env?: NodeJS.ProcessEnv): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, customTags: [...secretTags(env), ...ansibleTags()], merge: true, uniqueKeys: true });
  const source = new YamlSource(doc, lineCounter, file);
  const issues = [...doc.errors, ...doc.warnings];
  const problems = yamlProblems(source, text, issues).map((p, i) =>
    issues[i]!.message.startsWith(VAULT)
      ? { ...p, message: issues[i]!.message, fix: 'cairn reads no ansible-vault data: take the value from the environment with !secret_env NAME (or !secret "text")' }
      : p,
  );
  if (issues.some((e) => e.code !== 'DUPLICATE_KEY' && e.code !== 'TAG_RESOLVE_FAILED')) return { source, problems };
  try {
    return { data: doc.toJS({ maxAliasCount: 1000 }) as unknown, source, problems };
  } catch (err) {
    return { source, problems: [...problems, { location: source.ofNode(undefined), message: `cannot read the YAML: ${(err as Error).message}`, fix: 'use fewer aliases (*name)' }] };
  }
}
