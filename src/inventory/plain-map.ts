/** A map from YAML or object literal syntax (not a Secret, array, Date, class instance). */
export function isPlainMap(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Set an own property, even one named `__proto__`, without touching the prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Own property lookup (never inherited). */
export function getOwn(source: unknown, key: string): { found: boolean; value?: unknown } {
  if (!isPlainMap(source) || !Object.prototype.hasOwnProperty.call(source, key)) return { found: false };
  return { found: true, value: source[key] };
}
