import type { YAMLError } from 'yaml';
import type { InputProblem } from '../core/errors.ts';
import { didYouMean } from './suggest.ts';
import { SECRET_ENV_UNSET, SECRET_TAG_NAMES } from './yaml-tags.ts';
import type { YamlSource } from './yaml-source.ts';

const SYNTAX_FIX: Record<string, string> = {
  BAD_INDENT: 'indent with spaces so that the keys of one map start in the same column',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  MISSING_CHAR: 'add the missing closing character (quote or bracket)',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line and be followed by ": "',
  UNEXPECTED_TOKEN: 'check the punctuation at this position (": " after keys, "- " before list items)',
  BLOCK_AS_IMPLICIT_KEY: 'write "key: value" with a space after the colon',
};

/** YAML parse errors and warnings (syntax, duplicate keys, tags) as problems. */
export function yamlProblems(source: YamlSource, text: string, errors: readonly YAMLError[]): InputProblem[] {
  return errors.map((e) => {
    const location = source.at(e.pos[0]);
    const snippet = text.slice(e.pos[0], e.pos[1]);
    switch (e.code) {
      case 'DUPLICATE_KEY':
        return {
          location,
          message: `key '${keyAt(text, e.pos[0]) ?? snippet.trim()}' appears twice in the same map`,
          fix: 'keep one of them (merge their contents); YAML would otherwise silently keep only the last',
        };
      case 'MULTIPLE_DOCS':
        return {
          location,
          message: 'the inventory must be a single YAML document, but a second one starts here',
          fix: 'remove the "---" separator and merge the documents into one',
        };
      case 'TAG_RESOLVE_FAILED':
        return tagProblem(location, e.message, snippet);
      default:
        return {
          location,
          message: `YAML syntax error: ${e.message}`,
          fix: flowFix(e.message) ?? SYNTAX_FIX[e.code] ?? 'correct the YAML at this position',
        };
    }
  });
}

/** Unclosed [ or { lists and maps are reported as indentation problems: say what is missing. */
function flowFix(message: string): string | undefined {
  if (/end with a \]/.test(message)) return 'close the [ list with ] before the next key (a list on several lines needs its items indented)';
  if (/end with a \}/.test(message)) return 'close the { map with } before the next key';
  return undefined;
}

function tagProblem(location: InputProblem['location'], message: string, snippet: string): InputProblem {
  if (message.startsWith(SECRET_ENV_UNSET)) {
    const name = /variable (\S+)/.exec(message)?.[1] ?? 'NAME';
    return {
      location,
      message,
      fix: `export ${name}=... in the environment that runs cairn, or write the value inline as !secret "..."`,
    };
  }
  if (message.startsWith('!secret_env')) {
    return { location, message, fix: 'write !secret_env NAME with the name of an environment variable, e.g. !secret_env CONSUL_KEY' };
  }
  const tag = /Unresolved tag: (\S+)/.exec(message)?.[1] ?? snippet.trim();
  if ((SECRET_TAG_NAMES as readonly string[]).includes(tag)) {
    return {
      location,
      message: `${tag} applies to a single text value, not to a list or a map`,
      fix: `tag each secret value separately, e.g. key: ${tag} ${tag === '!secret' ? '"text"' : 'NAME'}`,
    };
  }
  const hint = didYouMean(tag, SECRET_TAG_NAMES);
  return {
    location,
    message: `unknown YAML tag ${tag}`,
    fix: `${hint ? `${hint} ` : ''}cairn knows !secret "text" and !secret_env NAME; remove the tag for a plain value`,
  };
}

/** The map key written at `offset` ("port" in "port: 22", quotes removed). */
function keyAt(text: string, offset: number): string | undefined {
  const line = text.slice(offset).split('\n', 1)[0] ?? '';
  const m = /^(?:"([^"]*)"|'([^']*)'|([^:#]+?))\s*:(?:\s|$)/.exec(line);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}
