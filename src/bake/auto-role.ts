/**
 * The built-in role that ends every bake (roles/bake-cleanup). The CLI hands it to the
 * engine as a final role (PrepareOptions.finalRoles) in bake mode, so the cleanup always
 * runs last, after every role and its handlers. Outside bake mode a listed bake-cleanup
 * refuses.
 */
export const BAKE_CLEANUP_ROLE = 'bake-cleanup';

/** The final roles of a run (PrepareOptions.finalRoles): bake-cleanup in bake mode, none otherwise. */
export function bakeFinalRoles(bake: boolean): string[] {
  return bake ? [BAKE_CLEANUP_ROLE] : [];
}
