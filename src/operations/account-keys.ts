import type { PathEffect } from './operation.ts';

/**
 * What user and group steps read and change, as keys of the run's path ledger (see
 * engine/path-ledger.ts): a user step is probed again after an earlier step of the
 * run changed one of ITS accounts (its primary or supplementary groups, the user
 * itself), not after every account change. The keys are not host paths (they do
 * not start with /), so no file step's path matches them.
 *
 * Account commands also rewrite the account files: later steps that read those
 * (a `line` in /etc/group) are probed again. User and group steps do not list the
 * files among what they read: a file step that edits /etc/group by hand before a
 * user step of the same run is not seen by that user step's plan.
 */
export const userKey = (name: string): string => `account:user:${name}`;
export const groupKey = (name: string): string => `account:group:${name}`;

/** The files adduser / addgroup / useradd / usermod rewrite. */
export const ACCOUNT_FILES = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'] as const;

/** The ledger effects of an account change touching these keys. */
export function accountEffects(keys: readonly string[]): PathEffect[] {
  return [...keys, ...ACCOUNT_FILES].map((path) => ({ path, kind: 'unknown' as const }));
}
