import { readFileSync, writeFileSync } from 'node:fs';
import type { StandinArtifacts } from '../../agent/standin.ts';
import type { BedHost } from '../../bed/fleet.ts';
import { fleetInventory } from '../../helpers/inventory.ts';

/** The artifacts vars for the stand-in agents' release-shaped zips + SHA256SUMS (test/agent). */
export function standinArtifactVars(a: StandinArtifacts) {
  const D = a.dir;
  return {
    nomad_version: a.nomadVersion,
    consul_version: a.consulVersion,
    nomad_artifacts: {
      musl_amd64: { file: `${D}/nomad_{version}_linux_amd64_musl.zip`, sums: `${D}/nomad_{version}_SHA256SUMS` },
      glibc_amd64: { file: `${D}/nomad_{version}_linux_amd64.zip`, sums: `${D}/nomad_{version}_SHA256SUMS` },
      musl_arm64: { file: `${D}/nomad_{version}_linux_arm64_musl.zip`, sums: `${D}/nomad_{version}_SHA256SUMS` },
      glibc_arm64: { file: `${D}/nomad_{version}_linux_arm64.zip`, sums: `${D}/nomad_{version}_SHA256SUMS` },
    },
    consul_artifacts: {
      static_amd64: { file: `${D}/consul_{version}_linux_amd64.zip`, sums: `${D}/consul_{version}_SHA256SUMS` },
      static_arm64: { file: `${D}/consul_{version}_linux_arm64.zip`, sums: `${D}/consul_{version}_SHA256SUMS` },
    },
  };
}

/**
 * An inventory of bed hosts for the stack roles: every host in group `servers` and in
 * group `stack` (with `roles`), the stand-in artifacts, and the gossip key as !secret.
 */
export function stackInventory(opts: {
  hosts: readonly BedHost[];
  roles: string[];
  standin: StandinArtifacts;
  gossipKey: string;
  vars?: Record<string, unknown>;
  hostVars?: (h: BedHost) => Record<string, unknown>;
}): string {
  const names = opts.hosts.map((h) => h.name);
  const inv = fleetInventory({
    hosts: names,
    groups: { servers: { hosts: names }, stack: { hosts: names, roles: opts.roles } },
    vars: { ...standinArtifactVars(opts.standin), consul_encrypt: '__GOSSIP_KEY__', ...(opts.vars ?? {}) },
    hostVars: Object.fromEntries(opts.hosts.map((h) => [h.name, opts.hostVars?.(h) ?? {}])),
  });
  writeFileSync(inv.file, readFileSync(inv.file, 'utf8').replace('consul_encrypt: __GOSSIP_KEY__', `consul_encrypt: !secret "${opts.gossipKey}"`));
  return inv.file;
}
