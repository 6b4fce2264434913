/**
 * Checksum lists as HashiCorp (`nomad_1.7.5_SHA256SUMS`) and the CNI plugins
 * (`*.tgz.sha256`) publish them: one `hex  filename` a line (`*filename` in
 * binary mode, as sha256sum writes it).
 */
export function parseSums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$/.exec(line);
    if (m) out.set(m[2]!.replace(/^\.\//, ''), m[1]!.toLowerCase());
  }
  return out;
}

/** The hash of `name` in a sums file; a clear error naming the file and what it lists otherwise. */
export function hashFromSums(text: string, name: string, source: string): string {
  const sums = parseSums(text);
  const hex = sums.get(name);
  if (hex) return hex;
  const listed = [...sums.keys()];
  throw new Error(
    `${name} is not listed in the sums file ${source}` +
      (listed.length ? ` (it lists: ${listed.slice(0, 12).join(', ')}${listed.length > 12 ? ', ...' : ''})` : ' (no `hex  filename` lines found: is it a sums file?)'),
  );
}
