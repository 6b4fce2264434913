/**
 * POSIX single-quote one word. Works in busybox ash, dash and bash:
 * inside '...' nothing is special, and a ' is written as '\''.
 */
export function quote(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
