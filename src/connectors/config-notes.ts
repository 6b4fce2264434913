import { mask } from '../core/secret.ts';

/**
 * What cairn's own ssh_config reader did not honour (Match blocks, other
 * keywords), printed on stderr once per run: each note once, however many hosts
 * use the config. Only used when OpenSSH's `ssh -G` is not there to answer.
 */
const shown = new Set<string>();

export type NoteWriter = (line: string) => void;

const stderrWriter: NoteWriter = (line) => void process.stderr.write(`${line}\n`);

/** Print the notes not printed yet in this process, under one header line. */
export function reportConfigNotes(notes: readonly string[], why: string, write: NoteWriter = stderrWriter): void {
  const fresh = notes.filter((n) => !shown.has(n));
  if (fresh.length === 0) return;
  for (const n of fresh) shown.add(n);
  write(`cairn: ${why}: cairn read the ssh config itself, and did not honour:`);
  for (const n of fresh) write(mask(`  ${n}`));
}

/** For tests: forget what was printed. */
export function resetConfigNotes(): void {
  shown.clear();
}
