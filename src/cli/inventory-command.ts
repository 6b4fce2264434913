import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import { convertInventory } from '../inventory/ansible/convert.ts';
import { knownRoles } from '../roles/loader.ts';

interface ConvertFlags {
  inventory: string;
  output?: string;
}

/**
 * `cairn inventory convert -i hosts.ini [-o inventory.yml]`: an Ansible
 * inventory (with host_vars/, group_vars/ and its cairn overlay) written as a
 * cairn inventory, on stdout by default. Problems throw (exit 65 / 64).
 */
export function addInventoryCommand(program: Command, io: { out: (s: string) => void }): void {
  const inventory = program.command('inventory').description('work with inventory files');
  inventory
    .command('convert')
    .description('write an Ansible inventory (INI or YAML) as a cairn inventory')
    .requiredOption('-i, --inventory <file>', 'the Ansible inventory')
    .option('-o, --output <file>', 'write here instead of stdout')
    .action((flags: ConvertFlags) => {
      if (flags.output && resolve(flags.output) === resolve(flags.inventory)) throw new UsageError('-o names the inventory itself: write the cairn inventory to another file');
      const text = convertInventory(flags.inventory, flags.output, { knownRoles: knownRoles(dirname(resolve(flags.inventory))) });
      if (!flags.output) return io.out(text.replace(/\n$/, ''));
      try {
        writeFileSync(flags.output, text);
      } catch (err) {
        throw new UsageError(`cannot write ${flags.output}: ${(err as Error).message}`);
      }
    });
}
