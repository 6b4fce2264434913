import type { AnyAuthMethod, KeyboardInteractiveAuthMethod } from 'ssh2';
import type { Secret } from '../../core/secret.ts';

/** A prompt keyboard-interactive may ask that the password answers (PAM: "Password: ", "user@host's password: "). */
const PASSWORD_PROMPT = /pass(word|wort)|mot de passe|contrase/i;

/** What the password step did in one handshake, for the error when the login fails. */
export interface PasswordAuthState {
  /** The method the password was sent by (once at most). */
  sent?: 'password' | 'keyboard-interactive';
  /** The methods the server said it accepts, when it said (after 'none' or a refused method). */
  serverMethods?: string[];
  /** A keyboard-interactive prompt cairn could not answer. */
  unanswerable?: string;
}

export interface PasswordAuth {
  /** The next method to offer once the keys and the agent are used up, or undefined: nothing more to try. */
  next(methodsLeft: string[] | null): AnyAuthMethod | undefined;
  readonly state: PasswordAuthState;
}

/**
 * The password, offered after keys and agent, ONCE per handshake: by `password`
 * when the server accepts it, else by `keyboard-interactive` (every prompt that
 * asks for a password gets it; any other prompt calls `abort`). Without knowing
 * the server's methods (no key was offered), it asks with `none` first.
 * A refused password is never sent again: the next call returns undefined.
 */
export function passwordAuth(user: string, password: Secret, abort: (why: string) => void): PasswordAuth {
  const state: PasswordAuthState = {};
  let askedNone = false;
  const keyboard: KeyboardInteractiveAuthMethod = {
    type: 'keyboard-interactive',
    username: user,
    prompt: (_name, _instructions, _lang, prompts, finish) => {
      const other = prompts.find((p) => !PASSWORD_PROMPT.test(p.prompt));
      if (other) {
        state.unanswerable = other.prompt.trim();
        abort(`keyboard-interactive login asked '${state.unanswerable}', which cairn cannot answer (it answers only password prompts)`);
        return;
      }
      finish(prompts.map(() => password.reveal()));
    },
  };
  return {
    state,
    next(methodsLeft) {
      if (state.sent || state.unanswerable) return undefined;
      if (methodsLeft === null) {
        if (askedNone) return undefined;
        askedNone = true;
        return { type: 'none', username: user };
      }
      state.serverMethods = methodsLeft;
      if (methodsLeft.includes('password')) {
        state.sent = 'password';
        return { type: 'password', username: user, password: password.reveal() };
      }
      if (methodsLeft.includes('keyboard-interactive')) {
        state.sent = 'keyboard-interactive';
        return keyboard;
      }
      return undefined;
    },
  };
}

/**
 * The reason a login with a password failed, or undefined when the password
 * played no part. `origin` names where the password came from (never its text).
 */
export function passwordFailure(state: PasswordAuthState, login: string, origin: string | undefined): string | undefined {
  const from = origin ? ` (${origin})` : '';
  if (state.unanswerable) {
    return `password login as ${login} failed: the server's keyboard-interactive login asked '${state.unanswerable}', which cairn cannot answer (it answers only password prompts). Fix: log in with a key, or let sshd ask only for the password`;
  }
  if (state.sent) {
    return `password login as ${login} was refused (${state.sent} auth, tried once, not again): check the password${from}`;
  }
  return undefined;
}

/** Why the password was not offered at all, for the list of what was tried. */
export function passwordNotOffered(state: PasswordAuthState): string {
  const methods = state.serverMethods;
  return methods ? `not offered: the server accepts only ${methods.join(', ') || 'nothing more'} (set PasswordAuthentication yes or KbdInteractiveAuthentication yes in its sshd_config)` : 'not offered';
}
