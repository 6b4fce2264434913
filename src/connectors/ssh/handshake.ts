import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, Client as ClientType, ConnectConfig } from 'ssh2';
import { UnreachableError } from '../../core/errors.ts';
import type { SshTarget } from '../ssh-config.ts';
import { preferredHostKeyAlgorithms } from '../host-key.ts';
import { knownKeyTypes, loadKnownHosts, type KnownHosts } from '../known-hosts.ts';
import { authMethods } from './auth.ts';
import type { Secret } from '../../core/secret.ts';
import { originOf } from '../../core/secret-origin.ts';
import { hopLabel } from './hop.ts';
import { hostVerifier } from './host-verifier.ts';
import type { Link } from './link.ts';
import { passwordAuth, passwordFailure, passwordNotOffered } from './password-auth.ts';

const { Client } = ssh2;

const MIN_HANDSHAKE_TIMEOUT_MS = 20_000;

/** The connection closed or was cut before the handshake finished: worth another try (sshd MaxStartups drops such connections). */
export class HandshakeLostError extends UnreachableError {}

/** The password was refused (or could not be given): never tried again, not even by a later command of the run. */
export class PasswordRefusedError extends UnreachableError {}

export interface HandshakeOptions {
  /** The inventory name of the host (for errors). */
  host: string;
  /** Put before every message (names the jump host). */
  prefix: string;
  connectTimeoutMs: number;
  /** --accept-new-host-keys (StrictHostKeyChecking accept-new or no also accepts). */
  acceptNewHostKeys: boolean;
  /** ssh-agent socket by default (ssh_config IdentityAgent wins); undefined: none; null: never, whatever ssh_config says. */
  agent: string | null | undefined;
  keepaliveIntervalMs: number;
  onRecordedHostKey: (what: string) => void;
  /** Login password of this hop, offered after the keys and the agent, once. */
  password?: Secret | undefined;
}

/** SSH handshake over `sock`: host key check, then log in with the keys and agent. Errors are UnreachableErrors that say why. */
export async function handshake(t: SshTarget, link: Link, o: HandshakeOptions): Promise<ClientType> {
  const { host, prefix } = o;
  const { sock } = link;
  let known: KnownHosts;
  try {
    known = await loadKnownHosts(t.knownHostsFiles);
  } catch (err) {
    throw new UnreachableError(host, prefix + (err as Error).message, { cause: err });
  }
  const acceptNew = o.acceptNewHostKeys || t.strictHostKeyChecking === 'accept-new' || t.strictHostKeyChecking === 'no';
  const { methods, tried } = await authMethods(t, o.agent);
  if (methods.length === 0 && !o.password) {
    throw new UnreachableError(
      host,
      `${prefix}no SSH key to log in as ${t.user} at ${hopLabel(t)}: ${tried.map((a) => `${a.what}: ${a.note}`).join('; ')}. ` +
        `Set identity for the host in the inventory, IdentityFile in the ssh config, start ssh-agent with the key loaded, or set a password (password: !secret_env NAME, --ask-pass)${t.identitiesOnly ? ' (IdentitiesOnly yes: the agent is only asked for the identity files\' keys)' : ''}.`,
    );
  }
  const agentNotes: string[] = [];
  const client = new Client();
  const verifier = hostVerifier(t, { known, acceptNew, prefix, onRecorded: o.onRecordedHostKey, hash: t.hashKnownHosts });

  const config: ConnectConfig = {
    sock: sock as ConnectConfig['sock'],
    username: t.user,
    hostVerifier: verifier.verify,
    readyTimeout: Math.max(o.connectTimeoutMs, MIN_HANDSHAKE_TIMEOUT_MS),
    keepaliveInterval: o.keepaliveIntervalMs,
    keepaliveCountMax: 4,
    algorithms: {
      serverHostKey: preferredHostKeyAlgorithms(knownKeyTypes(known, t.hostname, t.port)) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'],
    },
  };
  // a keyboard-interactive prompt cairn cannot answer ends the handshake
  let aborted: string | undefined;
  const pw = o.password
    ? passwordAuth(t.user, o.password, (why) => {
        aborted = why;
        client.end();
      })
    : undefined;
  let next = 0;
  config.authHandler = (left, _partial, cb) => {
    const m = methods[next++] ?? pw?.next(left as string[] | null);
    (cb as (m: AnyAuthMethod | false) => void)(m ?? false);
  };

  // the link ended before ssh2 saw anything from the server
  let early = false;
  try {
    await new Promise<void>((resolve, reject) => {
      client.on('ready', () => resolve());
      client.on('error', (err: Error & { level?: string }) => {
        if (err.level === 'agent') {
          agentNotes.push(err.message);
          return;
        }
        if (/Connection lost before handshake/.test(err.message)) early = true;
        reject(err);
      });
      client.on('close', () => reject(new Error('the connection closed during the SSH handshake')));
      // the server may have closed the socket while known_hosts was read (sshd MaxStartups):
      // ssh2 would never see that close and wait for the whole handshake timeout
      if (link.ended.reason || sock.destroyed || (sock as Duplex & { readableEnded?: boolean }).readableEnded) {
        early = true;
        reject(new Error('the connection closed during the SSH handshake', { cause: link.ended.reason }));
        return;
      }
      client.connect(config);
    });
  } catch (err) {
    client.removeAllListeners('ready');
    client.on('error', () => undefined);
    client.destroy();
    sock.destroy();
    const level = (err as { level?: string }).level;
    const where = `${t.user}@${hopLabel(t)}`;
    let reason: string;
    const hostKeyFailure = verifier.failure();
    const pwFailure = pw && passwordFailure(pw.state, where, originOf(o.password));
    if (hostKeyFailure) reason = hostKeyFailure;
    else if (pwFailure && (aborted || level === 'client-authentication')) {
      const before = tried.filter((a) => a.note === 'rejected' || a.note === 'no accepted key');
      reason = `${prefix}${pwFailure}${before.length ? ` (before it: ${before.map((a) => `${a.what}: ${a.note}`).join('; ')})` : ''}`;
      throw new PasswordRefusedError(host, reason, { cause: err });
    } else if (pw?.state.sent && level !== 'client-timeout') {
      // never a HandshakeLostError once the password was sent: the retry would send it again
      reason = `${prefix}the connection to ${hopLabel(t)} was cut during the password login as ${where} (${link.ended.reason?.message ?? (err as Error).message}); not tried again, so the password is sent once`;
      throw new PasswordRefusedError(host, reason, { cause: err });
    } else if (level === 'client-authentication') {
      // every method was tried: report each one
      const list = tried
        .map((a) => `${a.what}: ${a.note}`)
        .concat(agentNotes.map((n) => `ssh-agent: ${n}`))
        .concat(pw ? [`password: ${passwordNotOffered(pw.state)}`] : []);
      reason =
        `${prefix}authentication failed for user ${t.user} at ${hopLabel(t)}; tried ${list.join('; ')}. ` +
        `Fix: add one of these public keys to ~${t.user}/.ssh/authorized_keys on the host, or set the right user/identity in the inventory (or User/IdentityFile in the ssh config).`;
    } else if (level === 'client-timeout') {
      reason = `${prefix}SSH handshake with ${where} timed out after ${config.readyTimeout} ms (the server accepted TCP but did not finish the SSH handshake)`;
    } else if (early) {
      reason = `${prefix}${hopLabel(t)} closed the connection before the SSH handshake finished (is it an SSH server? too many unauthenticated connections, sshd MaxStartups?)`;
      throw new HandshakeLostError(host, reason, { cause: err });
    } else if (level === 'client-socket' || /closed during the SSH handshake/.test((err as Error).message)) {
      // the server answered, then the connection went away in the key exchange or the login
      reason = `${prefix}the connection to ${hopLabel(t)} was cut during the SSH handshake (${link.ended.reason?.message ?? (err as Error).message})`;
      throw new HandshakeLostError(host, reason, { cause: err });
    } else {
      reason = `${prefix}SSH handshake with ${where} failed: ${(err as Error).message}`;
    }
    throw new UnreachableError(host, reason, { cause: err });
  }
  client.removeAllListeners('ready');
  client.removeAllListeners('error');
  client.removeAllListeners('close');
  client.on('error', () => undefined);
  return client;
}
