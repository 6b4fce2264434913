import { UsageError } from '../core/errors.ts';
import { Secret } from '../core/secret.ts';
import { withOrigin } from '../core/secret-origin.ts';
import type { HostSpec } from '../inventory/types.ts';
import { promptSecret } from './prompt-secret.ts';

export interface AskPasswordFlags {
  /** --ask-pass: the login password of every host that has none. */
  askPass?: boolean;
  /** --ask-become-pass: the become (sudo) password of every host that has none. */
  askBecomePass?: boolean;
}

/**
 * --ask-pass / --ask-become-pass: ask once each (no echo) and give the answer
 * to every selected host that has no password of its own in the inventory.
 */
export async function askPasswords(flags: AskPasswordFlags, hosts: readonly HostSpec[], prompt: (q: string) => Promise<string> = promptSecret): Promise<void> {
  const ask = async (question: string, flag: string): Promise<Secret> => {
    const text = await prompt(question);
    if (text === '') throw new UsageError(`${flag}: no password was typed (an empty line); run again and type it, or leave ${flag} out`);
    return withOrigin(new Secret(text), `typed at ${flag}`);
  };
  if (flags.askPass && hosts.some((h) => h.password === undefined)) {
    const pw = await ask('SSH password: ', '--ask-pass');
    for (const h of hosts) h.password ??= pw;
  }
  if (flags.askBecomePass && hosts.some((h) => h.becomePassword === undefined)) {
    const pw = await ask('become (sudo) password: ', '--ask-become-pass');
    for (const h of hosts) h.becomePassword ??= pw;
  }
}
