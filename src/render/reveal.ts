import { isSecret } from '../core/secret.ts';

/**
 * A copy of `value` with every Secret replaced by its real text (a rendered
 * file needs it), and the list of those texts. Maps and lists are copied;
 * other objects are kept as they are.
 */
export function revealSecrets<T>(value: T): { value: T; secrets: string[] } {
  const secrets = new Set<string>();
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    if (isSecret(v)) {
      const text = v.reveal();
      if (text) secrets.add(text);
      return text;
    }
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return seen.get(v);
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (const item of v) out.push(walk(item));
      return out;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return v;
    const out: Record<string, unknown> = {};
    seen.set(v, out);
    for (const [k, item] of Object.entries(v)) {
      Object.defineProperty(out, k, { value: walk(item), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return { value: walk(value) as T, secrets: [...secrets] };
}
