import { InvalidArgumentError } from 'commander';
import type { Facts } from '../facts/types.ts';
import { didYouMean, listChoices } from '../inventory/suggest.ts';

/** The top-level keys of Facts (the compiler checks the list is complete). */
const KEYS = {
  hostname: true,
  os: true,
  machine: true,
  arch: true,
  libc: true,
  init: true,
  supervisors: true,
  packageManager: true,
  kernel: true,
  cgroup: true,
  memoryMb: true,
  cpus: true,
  chroot: true,
} as const satisfies Record<keyof Facts, true>;
export const FACT_KEYS = Object.keys(KEYS) as (keyof Facts)[];

/** `--only os,arch`: known top-level fact keys, else a usage error listing them. */
export function parseOnly(v: string, prev: (keyof Facts)[] = []): (keyof Facts)[] {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError(`--only takes fact keys, comma separated: ${FACT_KEYS.join(',')}`);
  const bad = names.filter((n) => !(FACT_KEYS as string[]).includes(n));
  if (bad.length > 0) {
    const hints = bad.map((b) => {
      const d = didYouMean(b, FACT_KEYS);
      return d ? `'${b}' (${d})` : `'${b}'`;
    });
    throw new InvalidArgumentError(`unknown fact key${bad.length > 1 ? 's' : ''} ${hints.join(', ')}; the keys are ${listChoices(FACT_KEYS)}`);
  }
  return [...new Set([...prev, ...(names as (keyof Facts)[])])];
}

/** A host's facts cut down to `keys`, in the order given. */
export function pickFacts(facts: Facts, keys: readonly (keyof Facts)[]): Partial<Facts> {
  return Object.fromEntries(keys.map((k) => [k, facts[k]])) as Partial<Facts>;
}
