import type { ScalarTag } from 'yaml';
import { Secret, isSecret } from '../core/secret.ts';
import { withOrigin } from '../core/secret-origin.ts';

/** Message prefix of a `!secret_env` whose variable is unset (to attach the fix). */
export const SECRET_ENV_UNSET = 'environment variable';

/**
 * YAML tags for secrets:
 * - `!secret "text"`: the text, as a Secret (masked in every output).
 * - `!secret_env NAME`: the value of environment variable NAME, as a Secret;
 *   an unset or empty variable is a problem at the tag's location.
 */
export function secretTags(env: NodeJS.ProcessEnv = process.env): ScalarTag[] {
  const secret: ScalarTag = {
    tag: '!secret',
    identify: (v) => isSecret(v),
    resolve: (text) => withOrigin(new Secret(text), '!secret in the inventory'),
  };
  const secretEnv: ScalarTag = {
    tag: '!secret_env',
    resolve: (text, onError) => {
      const name = text.trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        onError(`!secret_env needs an environment variable name, got '${text}'`);
        return new Secret('');
      }
      const value = env[name];
      if (value === undefined || value === '') {
        onError(`${SECRET_ENV_UNSET} ${name} (used by !secret_env) is not set`);
        return new Secret('');
      }
      return withOrigin(new Secret(value), `!secret_env ${name}`);
    },
  };
  return [secret, secretEnv];
}

export const SECRET_TAG_NAMES = ['!secret', '!secret_env'] as const;
