// Demo role: packages per OS family, from the host's package manager.
import { defineRole, packages } from 'cairn-provision';

export default defineRole({
  name: 'toolbox',
  defaults: { toolbox_packages: { alpine: ['e2fsprogs'], debian: ['curl'] } },
  steps(ctx) {
    const byFamily = ctx.vars.toolbox_packages as Record<string, string[]>;
    const names = byFamily[ctx.facts.os.family] ?? [];
    return names.length ? [packages({ id: 'packages', names, state: 'present' })] : [];
  },
});
