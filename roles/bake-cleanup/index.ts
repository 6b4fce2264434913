// Built-in role: the last step of an image bake (`cairn apply --bake` appends it
// to every host). Each step probes for one kind of host identity (machine id,
// SSH host keys, Nomad/Consul node state, logs, package caches, histories, temp
// files, random seeds, DHCP leases, cairn's backups) and removes what it finds,
// naming every file in the report. Refuses to run outside bake mode.
// The list is data: src/bake/identity.ts; docs/bake.md describes it.
import {
  BAKE_ONLY_MESSAGE,
  IDENTITY_ITEMS,
  InvalidInputError,
  SSH_KEYGEN_UNIT,
  SSH_KEYGEN_UNIT_NAME,
  cleanupOp,
  cleanupStep,
  defineRole,
  extraSelections,
  file,
  service,
  skippedItems,
  type Operation,
} from 'cairn-provision';

export default defineRole({
  name: 'bake-cleanup',
  description: 'image bake: remove host identity and host history, prove none is left',
  defaults: { bake_cleanup_skip: [], bake_cleanup_paths: [] },
  validate(ctx) {
    return ctx.hostsWithRole.flatMap((host) => {
      const vars = ctx.varsFor(host);
      return [
        ...skippedItems(vars.bake_cleanup_skip).problems.map((message) => ({
          location: ctx.locate(host, 'bake_cleanup_skip'),
          message: `host '${host.name}': ${message}`,
          fix: 'list ids of src/bake/identity.ts items (docs/bake.md, "What is removed")',
        })),
        ...extraSelections(vars.bake_cleanup_paths).problems.map((message) => ({
          location: ctx.locate(host, 'bake_cleanup_paths'),
          message: `host '${host.name}': ${message}`,
          fix: 'e.g. bake_cleanup_paths: [/var/lib/myapp/instance-id, /etc/myapp/*.key]',
        })),
      ];
    });
  },
  steps(ctx) {
    if (!ctx.bake) {
      throw new InvalidInputError([
        { location: ctx.host.location, message: `host '${ctx.host.name}' runs role 'bake-cleanup' without --bake: ${BAKE_ONLY_MESSAGE}`, fix: "add --bake (image builds), or remove 'bake-cleanup' from the host's groups (--bake adds it by itself)" },
      ]);
    }
    const env = { facts: ctx.facts, vars: ctx.vars };
    const { skip } = skippedItems(ctx.vars.bake_cleanup_skip);
    const steps: Operation[] = [];
    // systemd hosts have nothing that makes SSH host keys at boot (Alpine's sshd
    // init script does): a oneshot unit runs `ssh-keygen -A` before sshd
    if (ctx.facts.init === 'systemd' && !skip.has('ssh-host-keys')) {
      steps.push(
        file({ id: 'ssh-keygen-unit', path: `/etc/systemd/system/${SSH_KEYGEN_UNIT_NAME}`, mode: '0644', content: SSH_KEYGEN_UNIT, backup: false }),
        service({ id: 'ssh-keygen-enabled', name: SSH_KEYGEN_UNIT_NAME, enabled: true, state: 'started' }),
      );
    }
    for (const item of IDENTITY_ITEMS) if (!skip.has(item.id)) steps.push(cleanupStep(item, env).op);
    const extra = extraSelections(ctx.vars.bake_cleanup_paths).selections;
    if (extra.length) steps.push(cleanupOp('extra-paths', { what: 'paths listed in bake_cleanup_paths' }, extra, env));
    return steps;
  },
});
