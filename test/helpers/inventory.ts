import { mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadFleet } from '../bed/fleet.ts';

export interface GroupDef {
  hosts: string[];
  roles?: string[];
  vars?: Record<string, unknown>;
}

export interface TestInventory {
  /** Path of the written inventory file. */
  file: string;
  dir: string;
  hosts: string[];
}

/**
 * Write an inventory for a test: the named hosts of the running test-bed fleet
 * (addresses, keys, known_hosts exactly as the bed wrote them), plus groups,
 * roles and vars. `rolesDir` is linked as <dir>/roles (user roles next to the inventory).
 */
export function fleetInventory(opts: {
  hosts: string[];
  groups: Record<string, GroupDef>;
  vars?: Record<string, unknown>;
  hostVars?: Record<string, Record<string, unknown>>;
  rolesDir?: string;
  /** Raw YAML appended (e.g. to use !secret tags). */
  extraYaml?: string;
  /** Log in as the bed's non-root user `tester` and become root the host's way (sudo/doas). */
  asTester?: boolean;
}): TestInventory {
  const fleet = loadFleet();
  const bed = parse(readFileSync(fleet.inventory, 'utf8')) as {
    connection?: Record<string, unknown>;
    hosts: Record<string, Record<string, unknown>>;
  };
  const hosts: Record<string, unknown> = {};
  for (const name of opts.hosts) {
    const h = bed.hosts[name];
    if (!h) throw new Error(`test bed fleet has no host '${name}' (has: ${Object.keys(bed.hosts).join(', ')})`);
    const vars = { ...((h.vars as Record<string, unknown>) ?? {}), ...(opts.hostVars?.[name] ?? {}) };
    const tester = opts.asTester ? { user: 'tester', become: fleet.hosts.find((x) => x.name === name)?.become } : {};
    hosts[name] = { ...h, ...tester, vars };
  }
  const dir = mkdtempSync(join(tmpdir(), 'cairn-inv-'));
  if (opts.rolesDir && existsSync(opts.rolesDir)) symlinkSync(opts.rolesDir, join(dir, 'roles'));
  const doc = {
    ...(bed.connection ? { connection: bed.connection } : {}),
    vars: opts.vars ?? {},
    hosts,
    groups: opts.groups,
  };
  const file = join(dir, 'inventory.yml');
  writeFileSync(file, stringify(doc) + (opts.extraYaml ?? ''));
  return { file, dir, hosts: opts.hosts };
}

/** Hosts of the fleet by kind (alpine, debian, alpine-arm, debian-arm). */
export function hostsOfKind(kind: string): string[] {
  return loadFleet()
    .hosts.filter((h) => h.kind === kind)
    .map((h) => h.name);
}
