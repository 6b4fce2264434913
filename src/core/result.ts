/** One shape for every command's outcome, success or failure (after execa's result). */
export interface CommandResult {
  /** The command as displayed (secrets masked). */
  readonly command: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/** What an exit code usually means, for error messages. */
export function exitCodeMeaning(code: number): string | undefined {
  if (code === 126) return 'command found but not executable';
  if (code === 127) return 'command not found';
  if (code > 128 && code < 160) return `killed by signal ${code - 128}`;
  return undefined;
}
