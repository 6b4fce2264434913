import { isSecret } from '../core/secret.ts';

/** A short description of a value for messages ("'maybe'", "-1", "a list"); never reveals secrets. */
export function describeValue(value: unknown): string {
  if (isSecret(value)) return 'a secret';
  if (value === null || value === undefined) return 'nothing';
  if (value === '') return "an empty text ('')";
  if (Array.isArray(value) && value.length === 0) return 'an empty list';
  if (typeof value === 'string') return value.length > 40 ? `'${value.slice(0, 37)}...'` : `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return typeof value;
}
