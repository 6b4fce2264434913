/**
 * A value as HCL (HashiCorp configuration) literal text: strings quoted and
 * escaped, with `${` and `%{` escaped so they are not template sequences;
 * lists as `[a, b]`; maps as `{ "key" = value }`. JSON-compatible for plain
 * strings, numbers and booleans.
 */
export function hclLiteral(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return hclString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`hcl: ${value} is not a finite number`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(hclLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${hclString(k)} = ${hclLiteral(v)}`).join(', ')} }`;
  }
  throw new Error(`hcl: cannot write ${typeof value} as HCL`);
}

/** A quoted HCL string: JSON escapes plus `$${` and `%%{` for literal `${` and `%{`. */
export function hclString(text: string): string {
  return JSON.stringify(text).replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}
