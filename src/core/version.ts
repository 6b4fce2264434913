/**
 * Dotted version numbers: `1.4.0`, `v1.4.0`, `3.19`, `1.3.0-rc1`, `1.9.7+ent`,
 * `3.21_alpha20240807` (Alpine edge's VERSION_ID).
 *
 * The numeric parts are compared one by one, numerically (1.10 > 1.9); a
 * missing part counts as 0 (3.8 == 3.8.0). The suffix (everything after the
 * numbers: `-rc1`, `+ent`, `_alpha...`) is kept but does not order versions:
 * 1.3.0-rc1 == 1.3.0.
 */
export interface Version {
  /** The text as given. */
  readonly text: string;
  /** The numeric parts: `v1.4.0-rc1` -> [1, 4, 0]. */
  readonly parts: readonly number[];
  /** What follows the numbers, '' when nothing: `v1.4.0-rc1` -> '-rc1'. */
  readonly suffix: string;
}

// the suffix may not start with a digit or '.': '1.2.' and '1.2.x' are not versions
const VERSION = /^v?(\d+(?:\.\d+)*)((?:[^.\d][\s\S]*)?)$/;

/** Parse a dotted version; undefined when `text` is not one. */
export function parseVersion(text: string): Version | undefined {
  const m = VERSION.exec(text);
  if (!m) return undefined;
  return { text, parts: m[1]!.split('.').map(Number), suffix: m[2] ?? '' };
}

/**
 * Compare two versions like a sort comparator: -1 (a older), 0 (same), 1 (a newer).
 * Throws when either is not a version (check untrusted text with parseVersion first).
 */
export function compareVersions(a: string | Version, b: string | Version): -1 | 0 | 1 {
  const pa = toVersion(a).parts;
  const pb = toVersion(b).parts;
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function toVersion(v: string | Version): Version {
  if (typeof v !== 'string') return v;
  const parsed = parseVersion(v);
  if (!parsed) {
    throw new Error(`cannot compare versions: ${JSON.stringify(v)} is not a version; expected dotted numbers such as 1.4.0, v1.4.0 or 1.4.0-rc1`);
  }
  return parsed;
}
