import { parse as parseYaml } from 'yaml';

/** One word of an INI host line, quotes removed, with its 1-based column. */
export interface Word {
  text: string;
  column: number;
}

/**
 * Split a line into words the way a POSIX shell would (what Ansible does for
 * host lines): blanks separate words, '...' and "..." quote, backslash escapes
 * outside single quotes, a word starting with '#' begins a comment.
 * Returns an error text for an unclosed quote.
 */
export function splitWords(line: string): Word[] | string {
  const words: Word[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || line[i] === '#') break;
    const column = i + 1;
    let text = '';
    while (i < line.length && !/\s/.test(line[i]!)) {
      const c = line[i]!;
      if (c === "'" || c === '"') {
        const end = closingQuote(line, i);
        if (end < 0) return `the quote ${c} at column ${i + 1} is not closed`;
        const inner = line.slice(i + 1, end);
        text += c === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
        i = end + 1;
      } else if (c === '\\' && i + 1 < line.length) {
        text += line[i + 1];
        i += 2;
      } else {
        text += c;
        i++;
      }
    }
    words.push({ text, column });
  }
  return words;
}

function closingQuote(line: string, start: number): number {
  const q = line[start];
  for (let i = start + 1; i < line.length; i++) {
    if (q === '"' && line[i] === '\\') i++;
    else if (line[i] === q) return i;
  }
  return -1;
}

/**
 * An INI value as Ansible reads it (a Python literal when it is one, else the
 * text): 3 -> 3, 1.5 -> 1.5, True/False -> booleans, None -> null, 'a b' -> "a b",
 * [1, 2] and {'a': 1} -> a list and a map; `true`, `yes` stay text.
 */
export function iniValue(text: string): unknown {
  const v = text.trim();
  if (/^[-+]?\d+$/.test(v)) return Number(v);
  if (/^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) return Number(v);
  if (v === 'True') return true;
  if (v === 'False') return false;
  if (v === 'None') return null;
  const quoted = /^(['"])(.*)\1$/s.exec(v);
  if (quoted) return quoted[2]!.replace(/\\(.)/g, '$1');
  if (/^[[{].*[\]}]$/s.test(v)) {
    try {
      return parseYaml(v) as unknown;
    } catch {
      return v;
    }
  }
  return v;
}
