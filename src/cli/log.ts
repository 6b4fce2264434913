import { closeSync, openSync, writeSync } from 'node:fs';
import type { RunEvent } from '../engine/events.ts';
import { mask } from '../core/secret.ts';
import { plainReporter } from '../report/plain.ts';
import { quote } from '../shell/quote.ts';
import { checkOutputFile } from './output-file.ts';

export interface RunLog {
  /** Feed every run event: written as the plain reporter's lines, all steps. */
  emit(e: RunEvent): void;
  /** Any other text (the recap, an error), masked. */
  write(text: string): void;
  close(): void;
}

/**
 * `--log FILE`: appends a header line, then the plain reporter's lines of every
 * step (as --verbose, whatever the terminal), then what the caller writes (the
 * recap). Secrets are masked. The file is checked (and opened) before any connection.
 */
export function openRunLog(file: string, opts: { argv: readonly string[]; diff: boolean; now?: Date }): RunLog {
  const path = checkOutputFile('--log', file);
  let fd: number | undefined = openSync(path, 'a');
  const write = (text: string) => {
    if (fd !== undefined) writeSync(fd, `${mask(text)}\n`);
  };
  write(`# ${(opts.now ?? new Date()).toISOString()} cairn ${opts.argv.map(quote).join(' ')}`);
  const plain = plainReporter({ diff: opts.diff, verbose: true, write });
  return {
    emit: plain,
    write,
    close: () => {
      if (fd === undefined) return;
      closeSync(fd);
      fd = undefined;
    },
  };
}
