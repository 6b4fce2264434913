import { InvalidArgumentError } from 'commander';

/** A commander value parser: a whole number >= 1 for `flag`, else a usage error naming it. */
export const positiveInt =
  (flag: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a whole number >= 1, got '${v}'`);
    return n;
  };

/** A repeatable option's values, in order (`-e a -e b`). */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
