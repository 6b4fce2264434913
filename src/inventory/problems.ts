import { formatLocation, type InputProblem } from '../core/errors.ts';

/** Problems in file order, each reported once. */
export function sortProblems(problems: readonly InputProblem[]): InputProblem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${formatLocation(p.location)}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort(
    (a, b) =>
      a.location.file.localeCompare(b.location.file) ||
      (a.location.line ?? 0) - (b.location.line ?? 0) ||
      (a.location.column ?? 0) - (b.location.column ?? 0),
  );
}
