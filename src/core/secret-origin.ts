import type { Secret } from './secret.ts';

/**
 * Where a Secret came from, in words a user can act on ("!secret_env CAIRN_PASSWORD",
 * "--ask-pass"): named in errors about the value (a refused password) without showing it.
 */
const origins = new WeakMap<Secret, string>();

/** Remember where `secret` came from; returns it. */
export function withOrigin(secret: Secret, origin: string): Secret {
  origins.set(secret, origin);
  return secret;
}

/** Where `secret` came from, or undefined when nobody said. */
export function originOf(secret: Secret | undefined): string | undefined {
  return secret ? origins.get(secret) : undefined;
}
