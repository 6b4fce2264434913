/** Most hosts one pattern may expand to: a typo like [1:100000] should not hang cairn. */
export const MAX_RANGE_HOSTS = 10_000;

export type HostPattern = { ok: true; names: string[]; port?: number } | { ok: false; message: string; fix: string };

const RANGE_FIX = 'write a range as [01:10] (zero-padded numbers, both ends the same width), [1:10], [a:f] or [1:10:2] (with a step)';

/**
 * The host names of an Ansible host pattern: `web1`, `web1:2222` (a port),
 * `pi[01:10]`, `node[a:c].lan`, `db[1:9:2]`, several ranges in one name.
 */
export function expandHostPattern(pattern: string): HostPattern {
  let name = pattern;
  let port: number | undefined;
  const withPort = /^([^:]+):(\d+)$/.exec(pattern);
  if (withPort) {
    name = withPort[1]!;
    port = Number(withPort[2]);
    if (port < 1 || port > 65535) return { ok: false, message: `port ${withPort[2]} of host '${name}' is outside 1-65535`, fix: `write ${name}:22, or set ansible_port` };
  }
  const names: string[] = [];
  const error = expandInto(name, names);
  if (error) return { ok: false, message: `cannot expand the host range in '${pattern}': ${error}`, fix: RANGE_FIX };
  return port === undefined ? { ok: true, names } : { ok: true, names, port };
}

/** Expands the first [range] of `name` and recurses for the rest; an error text or undefined. */
function expandInto(name: string, out: string[]): string | undefined {
  const open = name.indexOf('[');
  const close = name.indexOf(']');
  if (open < 0) {
    if (close >= 0) return `']' without '['`;
    out.push(name);
    return undefined;
  }
  if (close < open) return `'[' is not closed by ']'`;
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const values = rangeValues(name.slice(open + 1, close));
  if (typeof values === 'string') return values;
  for (const v of values) {
    const error = expandInto(`${head}${v}${tail}`, out);
    if (error) return error;
    if (out.length > MAX_RANGE_HOSTS) return `it gives more than ${MAX_RANGE_HOSTS} hosts`;
  }
  return undefined;
}

/** The values of `begin:end[:step]`, or an error text. */
function rangeValues(inner: string): string[] | string {
  const parts = inner.split(':');
  if (parts.length < 2 || parts.length > 3) return `[${inner}] is not [begin:end] or [begin:end:step]`;
  const [rawBegin, end, rawStep] = parts as [string, string, string | undefined];
  const begin = rawBegin === '' ? '0' : rawBegin;
  if (end === '') return `[${inner}] has no end`;
  const step = rawStep === undefined ? 1 : Number(rawStep);
  if (!Number.isInteger(step) || step < 1) return `the step '${rawStep}' of [${inner}] is not a whole number >= 1`;
  if (/^\d+$/.test(begin) && /^\d+$/.test(end)) {
    const width = begin.length > 1 && begin.startsWith('0') ? begin.length : 0;
    if (width && end.length !== width) return `[${inner}]: a zero-padded begin needs an end of the same width (${begin.length} digits)`;
    const [b, e] = [Number(begin), Number(end)];
    if (b > e) return `[${inner}]: begin is greater than end`;
    if ((e - b) / step >= MAX_RANGE_HOSTS) return `it gives more than ${MAX_RANGE_HOSTS} hosts`;
    const out: string[] = [];
    for (let i = b; i <= e; i += step) out.push(String(i).padStart(width, '0'));
    return out;
  }
  if (/^[A-Za-z]$/.test(begin) && /^[A-Za-z]$/.test(end)) {
    const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const [b, e] = [letters.indexOf(begin), letters.indexOf(end)];
    if (b > e) return `[${inner}]: begin comes after end`;
    const out: string[] = [];
    for (let i = b; i <= e; i += step) out.push(letters[i]!);
    return out;
  }
  return `[${inner}]: begin and end must both be numbers or both single letters`;
}
