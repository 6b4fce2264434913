import type { SshTarget } from '../ssh-config.ts';

/** `host:port`, with the ssh_config alias when it differs: how errors name a hop. */
export function hopLabel(t: SshTarget): string {
  const addr = `${t.hostname}:${t.port}`;
  return t.alias !== t.hostname ? `${addr} (${t.alias})` : addr;
}

/** The errno-style code of an error (ECONNREFUSED, ENOENT, ...), if it has one. */
export function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
