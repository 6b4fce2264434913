/** The built-in role that ends every bake (roles/bake-cleanup). */
export const BAKE_CLEANUP_ROLE = 'bake-cleanup';

/**
 * A host's roles for a run: in bake mode `bake-cleanup` is moved (or added) to
 * the end, so the cleanup always runs last, after every role and its handlers.
 * Outside bake mode the list is unchanged (a listed bake-cleanup then refuses).
 */
export function rolesForRun(roles: readonly string[], bake: boolean): string[] {
  if (!bake) return [...roles];
  return [...roles.filter((r) => r !== BAKE_CLEANUP_ROLE), BAKE_CLEANUP_ROLE];
}
