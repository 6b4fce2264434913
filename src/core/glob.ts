/**
 * The wildcard patterns of OpenSSH (ssh_config(5) PATTERNS), --limit and
 * Include file names: `*` matches any run of characters (also none), `?`
 * exactly one; every other character stands for itself (no escapes, no
 * character classes). Negation (`!pattern`) and pattern lists are the callers'.
 */
export interface GlobOptions {
  /** Compare lower-cased text and pattern (host names). Default: case-sensitive. */
  readonly ignoreCase?: boolean;
}

/** Does `pattern` contain a wildcard (`*` or `?`)? */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** Does the whole of `text` match `pattern`? */
export function globMatch(text: string, pattern: string, options: GlobOptions = {}): boolean {
  const t = options.ignoreCase ? text.toLowerCase() : text;
  const p = options.ignoreCase ? pattern.toLowerCase() : pattern;
  // iterative match, backtracking to the last '*' only (linear in practice, never exponential)
  let ti = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      ti++;
      pi++;
    } else if (star !== -1) {
      pi = star + 1;
      ti = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
