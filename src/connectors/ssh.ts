import * as net from 'node:net';
import { promises as fsp } from 'node:fs';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, Client as ClientType, ClientChannel, ConnectConfig, SFTPWrapper, VerifyCallback } from 'ssh2';
import type { Connector, RunOptions } from './connector.ts';
import { sh, type ShellCommand } from '../shell/sh.ts';
import { quote } from '../shell/quote.ts';
import type { CommandResult } from '../core/result.ts';
import { CommandFailedError, UnreachableError } from '../core/errors.ts';
import type { ConnectionSettings, HostSpec } from '../inventory/types.ts';
import { becomeFailure, shDashC, wrapBecome } from './become.ts';
import { fingerprint, keyTypeOf, preferredHostKeyAlgorithms } from './host-key.ts';
import { appendKnownHost, checkHostKey, describeKey, knownHostName, knownKeyTypes, loadKnownHosts, type KnownHosts } from './known-hosts.ts';
import { Semaphore } from '../core/semaphore.ts';
import { signalExitCode, timeoutNote, toCommandResult, TIMEOUT_EXIT_CODE, type RawOutput } from './process.ts';
import { loadSshConfig, resolveSshTarget, type ResolvedSshTarget, type SshConfig, type SshTarget } from './ssh-config.ts';
import { catDownloadCommand, catUploadCommand, MISSING_FILE_EXIT } from './transfer.ts';

const { Client, utils: sshUtils } = ssh2;

export interface SshConnectorOptions {
  /** Record unknown host keys in known_hosts instead of refusing (never accepts a changed key). */
  acceptNewHostKeys?: boolean;
  /** Parsed ssh_config to use instead of reading settings.sshConfig / ~/.ssh/config. */
  sshConfig?: SshConfig;
  /** Channels (commands) open at once on the one connection; default 8 (OpenSSH MaxSessions is 10). */
  maxChannels?: number;
  /** File transfer: SFTP with `cat` fallback (auto, the default), only SFTP, or only `cat`. */
  transfer?: 'auto' | 'sftp' | 'exec';
  /** SSH keepalive interval; default 15 s, the connection is dropped after 4 unanswered. */
  keepaliveIntervalMs?: number;
  /** Home directory for ~ and default files (default os.homedir()). */
  home?: string;
  /** ssh-agent socket (default $SSH_AUTH_SOCK); null: never use an agent. */
  agent?: string | null;
}

/** Counters, mostly for tests and --verbose output. */
export interface SshStats {
  /** TCP connections opened to the first hop. */
  tcpConnections: number;
  /** SSH handshakes completed (jump hosts included). */
  handshakes: number;
  /** Commands started. */
  commands: number;
  /** Most channels open at once for commands. */
  peakChannels: number;
  /** Whether the host's SFTP subsystem worked. */
  sftp: 'unknown' | 'available' | 'unavailable';
  /** Host keys recorded because of acceptNewHostKeys. */
  recordedHostKeys: string[];
}

interface Connection {
  /** First hop first; the last one is the target. */
  clients: ClientType[];
  client: ClientType;
  lost?: Error;
  closing: boolean;
  sftp?: Promise<SFTPWrapper | undefined>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/**
 * Stop a timed-out command: $1 is the PID of its shell. Collect the shell's
 * descendants first (a child may have left the process group, e.g. sudo with
 * use_pty), stop them, then SIGKILL the process group and every collected PID.
 * Runs with become when the command did, so root processes can be killed.
 * `kill -KILL -<pgid>` without `--`: dash rejects `--`, busybox ash too.
 */
const KILL_TREE = `root=$1
[ "\${root:-0}" -gt 1 ] || exit 0
list=$root
todo=$root
while [ -n "$todo" ]; do
  next=
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null < "$f" || continue
    set -- \${line##*) }
    for p in $todo; do
      if [ "$2" = "$p" ]; then d=\${f#/proc/}; next="$next \${d%/stat}"; fi
    done
  done
  list="$list$next"
  todo=$next
done
kill -STOP $list 2>/dev/null
pg=$(sed 's/.*) //' /proc/$root/stat 2>/dev/null | cut -d' ' -f3)
# the shell already gone: its PID was its process group if it led one
if [ "\${pg:-0}" -gt 1 ]; then kill -KILL "-$pg" 2>/dev/null; else kill -KILL "-$root" 2>/dev/null; fi
kill -KILL $list 2>/dev/null
true
`;

/** First stderr line of a command run with a timeout: the remote shell's PID (stripped from the result). */
const PID_MARKER = 'cairn-pid:';
const PID_LINE = /^cairn-pid:(\d+)\n$/;
const MIN_HANDSHAKE_TIMEOUT_MS = 20_000;
/** Retries of a refused channel open (10 ms doubling: about 2.5 s in all). */
const CHANNEL_OPEN_RETRIES = 8;

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function hopLabel(t: SshTarget): string {
  const addr = `${t.hostname}:${t.port}`;
  return t.alias !== t.hostname ? `${addr} (${t.alias})` : addr;
}

/** Open a TCP connection with its own timeout, so the error says which part failed. */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error(`connect timeout after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.setNoDelay(true);
      sock.setKeepAlive(true, 30_000);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function tcpErrorReason(err: unknown, t: SshTarget, timeoutMs: number): string {
  const where = hopLabel(t);
  switch (errCode(err)) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}: nothing listens there (is sshd running, is the port right?)`;
    case 'ETIMEDOUT':
      return `no answer from ${where} within ${Math.round(timeoutMs / 100) / 10} s (is the host up, the address right, a firewall in the way?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host name "${t.hostname}" (check the address in the inventory or HostName in the ssh config)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${where} (${errCode(err)}: check the address and the network)`;
    default:
      return `cannot connect to ${where}: ${(err as Error).message}`;
  }
}

interface AuthAttempt {
  what: string;
  note: string;
}

/**
 * Agentless SSH over one ssh2 connection per host (through ProxyJump hops if
 * configured). Every command is `/bin/sh -c '<text>'` in its own channel; up to
 * `maxChannels` run at once. Host keys are verified against known_hosts.
 */
export class SshConnector implements Connector {
  readonly kind = 'ssh' as const;
  readonly host: string;
  readonly stats: SshStats = { tcpConnections: 0, handshakes: 0, commands: 0, peakChannels: 0, sftp: 'unknown', recordedHostKeys: [] };
  readonly #spec: HostSpec;
  readonly #settings: ConnectionSettings;
  readonly #opts: SshConnectorOptions;
  readonly #slots: Semaphore;
  #target?: ResolvedSshTarget;
  #connecting?: Promise<Connection>;
  #conn?: Connection;
  #closed = false;

  constructor(host: HostSpec, settings: ConnectionSettings, opts: SshConnectorOptions = {}) {
    this.host = host.name;
    this.#spec = host;
    this.#settings = settings;
    this.#opts = opts;
    this.#slots = new Semaphore(opts.maxChannels ?? 8);
  }

  /** Where the connection goes (after connect(); resolves ssh_config on first use). */
  get target(): ResolvedSshTarget {
    return (this.#target ??= this.#resolve());
  }

  #resolve(): ResolvedSshTarget {
    const home = this.#opts.home;
    const config = this.#opts.sshConfig ?? loadSshConfig(this.#settings.sshConfig, home ? { home } : {});
    try {
      return resolveSshTarget(this.#spec, config, {
        ...(home ? { home } : {}),
        settings: this.#settings,
      });
    } catch (err) {
      throw new UnreachableError(this.host, (err as Error).message, { cause: err });
    }
  }

  async connect(): Promise<void> {
    await this.#connection();
  }

  async #connection(): Promise<Connection> {
    if (this.#closed) throw new Error(`connector for ${this.host} is closed`);
    if (this.#conn && !this.#conn.lost) return this.#conn;
    if (this.#conn?.lost) {
      // the connection dropped: one fresh attempt
      this.#conn = undefined;
      this.#connecting = undefined;
    }
    this.#connecting ??= this.#openWithRetry().then(
      (c) => {
        this.#conn = c;
        return c;
      },
      (err: unknown) => {
        this.#connecting = undefined;
        throw err;
      },
    );
    return this.#connecting;
  }

  /**
   * sshd drops unauthenticated connections at random once MaxStartups is reached
   * (many forks at once, or other clients): such an early close is tried again, up
   * to 3 times with a jittered pause. Nothing else is retried.
   */
  async #openWithRetry(): Promise<Connection> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#open();
      } catch (err) {
        const early = err instanceof UnreachableError && /closed the connection before the SSH handshake finished/.test(err.message);
        if (!early || attempt >= 4) throw err;
        await new Promise((r) => setTimeout(r, 300 * attempt + Math.random() * 700));
      }
    }
  }

  async #open(): Promise<Connection> {
    const target = this.target;
    const hops: SshTarget[] = [...target.jumps, target];
    const clients: ClientType[] = [];
    try {
      let sock: Duplex | undefined;
      for (const [i, hop] of hops.entries()) {
        const via = i > 0 ? hops[i - 1]! : undefined;
        const isJump = i < hops.length - 1;
        const connectTimeout = hop.connectTimeoutMs || this.#settings.connectTimeoutMs || DEFAULT_CONNECT_TIMEOUT_MS;
        const prefix = isJump ? `jump host ${hop.user}@${hopLabel(hop)}: ` : '';
        if (!via) {
          try {
            sock = await tcpConnect(hop.hostname, hop.port, connectTimeout);
            this.stats.tcpConnections++;
          } catch (err) {
            throw new UnreachableError(this.host, prefix + tcpErrorReason(err, hop, connectTimeout), { cause: err });
          }
        } else {
          sock = await this.#forward(clients[i - 1]!, via, hop, connectTimeout);
        }
        try {
          clients.push(await this.#handshake(hop, sock!, prefix, connectTimeout));
        } catch (err) {
          sock?.destroy();
          throw err;
        }
      }
    } catch (err) {
      for (const c of clients.reverse()) c.destroy();
      throw err;
    }
    const conn: Connection = { clients, client: clients[clients.length - 1]!, closing: false };
    for (const c of clients) {
      c.on('error', (err: Error) => {
        conn.lost ??= err;
      });
      c.on('close', () => {
        if (!conn.closing) conn.lost ??= new Error('the SSH connection was closed');
      });
    }
    return conn;
  }

  /** A tunnel from `via` to the next hop (ProxyJump). */
  #forward(client: ClientType, via: SshTarget, hop: SshTarget, timeoutMs: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new UnreachableError(this.host, `jump host ${hopLabel(via)} did not open a tunnel to ${hopLabel(hop)} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      try {
        client.forwardOut('127.0.0.1', 0, hop.hostname, hop.port, (err, stream) => {
          clearTimeout(timer);
          if (err) {
            const msg = err.message.replace(/^\(SSH\) /, '');
            // RFC 4254 5.1 reason codes: 1 administratively prohibited, 2 connect failed
            const reason = (err as Error & { reason?: number }).reason;
            const hint =
              reason === 1 || /prohibited/i.test(msg)
                ? ` (administratively prohibited: TCP forwarding is probably off on the jump host, set "AllowTcpForwarding yes" in its sshd_config)`
                : reason === 2 || /refused/i.test(msg)
                  ? ` (the jump host could not connect to ${hop.hostname}:${hop.port}: is the name resolvable there, does something listen?)`
                  : '';
            reject(new UnreachableError(this.host, `jump host ${hopLabel(via)} could not open a tunnel to ${hopLabel(hop)}: ${msg}${hint}`, { cause: err }));
            return;
          }
          resolve(stream);
        });
      } catch (err) {
        clearTimeout(timer);
        reject(new UnreachableError(this.host, `jump host ${hopLabel(via)} connection lost: ${(err as Error).message}`, { cause: err }));
      }
    });
  }

  async #authMethods(t: SshTarget): Promise<{ methods: AnyAuthMethod[]; tried: AuthAttempt[] }> {
    const methods: AnyAuthMethod[] = [];
    const tried: AuthAttempt[] = [];
    for (const file of t.identityFiles) {
      let data: Buffer;
      try {
        data = await fsp.readFile(file);
      } catch (err) {
        tried.push({ what: `key ${file}`, note: errCode(err) === 'ENOENT' ? 'missing' : `unreadable (${errCode(err) ?? (err as Error).message})` });
        continue;
      }
      let parsed = sshUtils.parseKey(data);
      if (Array.isArray(parsed)) parsed = parsed[0];
      if (parsed instanceof Error || !parsed) {
        const msg = parsed instanceof Error ? parsed.message : 'no key';
        tried.push({
          what: `key ${file}`,
          note: /encrypted|passphrase/i.test(msg) ? 'encrypted: cairn cannot ask for a passphrase, load it into ssh-agent' : `not a private key ssh2 can read (${msg})`,
        });
        continue;
      }
      if (!parsed.isPrivateKey()) {
        tried.push({ what: `key ${file}`, note: 'is a public key, not a private key' });
        continue;
      }
      methods.push({ type: 'publickey', username: t.user, key: data });
      tried.push({ what: `key ${file} (${parsed.type} ${fingerprint(parsed.getPublicSSH())})`, note: 'rejected' });
    }
    const agent = this.#opts.agent === null ? undefined : (this.#opts.agent ?? process.env.SSH_AUTH_SOCK);
    if (agent) {
      methods.push({ type: 'agent', username: t.user, agent });
      tried.push({ what: `ssh-agent at ${agent}`, note: 'no accepted key' });
    } else tried.push({ what: 'ssh-agent', note: 'not used (SSH_AUTH_SOCK is not set)' });
    return { methods, tried };
  }

  async #handshake(t: SshTarget, sock: Duplex, prefix: string, connectTimeout: number): Promise<ClientType> {
    let known: KnownHosts;
    try {
      known = await loadKnownHosts(t.knownHostsFiles);
    } catch (err) {
      throw new UnreachableError(this.host, prefix + (err as Error).message, { cause: err });
    }
    const acceptNew = !!this.#opts.acceptNewHostKeys || t.strictHostKeyChecking === 'accept-new' || t.strictHostKeyChecking === 'no';
    const { methods, tried } = await this.#authMethods(t);
    if (methods.length === 0) {
      throw new UnreachableError(
        this.host,
        `${prefix}no SSH key to log in as ${t.user} at ${hopLabel(t)}: ${tried.map((a) => `${a.what}: ${a.note}`).join('; ')}. ` +
          'Set identity for the host in the inventory, IdentityFile in the ssh config, or start ssh-agent with the key loaded.',
      );
    }
    let hostKeyFailure: string | undefined;
    const agentNotes: string[] = [];
    const client = new Client();
    const name = knownHostName(t.hostname, t.port);

    const hostVerifier = (key: Buffer, verify: VerifyCallback): void => {
      const fail = (why: string): void => {
        hostKeyFailure = why;
        verify(false);
      };
      const check = checkHostKey(known, t.hostname, t.port, key);
      const removeFix = (file: string): string => `ssh-keygen -R ${quote(name)} -f ${quote(file)}`;
      switch (check.status) {
        case 'known':
          verify(true);
          return;
        case 'revoked':
          fail(
            `${prefix}host key of ${name} is REVOKED: the server offered ${describeKey(key)}, which ${check.entry.file}:${check.entry.line} marks @revoked. ` +
              'Refusing to connect. The host must get a new host key.',
          );
          return;
        case 'mismatch': {
          const e = check.entries[0]!;
          fail(
            `${prefix}HOST KEY MISMATCH for ${name}: the server offered ${describeKey(key)}, but ${e.file}:${e.line} records ${describeKey(e.key)}. ` +
              'Someone may be intercepting the connection, or the host was reinstalled. ' +
              `If the change is expected, remove the old key with: ${removeFix(e.file)} (then connect again with --accept-new-host-keys)`,
          );
          return;
        }
        case 'other-types': {
          const e = check.entries[0]!;
          fail(
            `${prefix}host key for ${name} does not match: the server offered ${describeKey(key)}, but only ${[...new Set(check.entries.map((x) => x.keyType))].join(', ')} keys are recorded (${e.file}:${e.line}). ` +
              `If the change is expected, remove the old keys with: ${removeFix(e.file)}`,
          );
          return;
        }
        case 'unknown': {
          const file = t.knownHostsFiles[0];
          if (!acceptNew || !file) {
            fail(
              `${prefix}host key for ${name} is unknown: the server offered ${describeKey(key)} and it is not in ${t.knownHostsFiles.join(', ') || '(no known_hosts file)'}. ` +
                `Check the fingerprint, then record it (ssh-keyscan${t.port !== 22 ? ` -p ${t.port}` : ''} ${quote(t.hostname)} >> ${quote(file ?? '~/.ssh/known_hosts')}) or run with --accept-new-host-keys.`,
            );
            return;
          }
          appendKnownHost(file, t.hostname, t.port, key).then(
            (line) => {
              this.stats.recordedHostKeys.push(`${name} ${keyTypeOf(key)} ${fingerprint(key)} -> ${file}:${line}`);
              verify(true);
            },
            (err: Error) => fail(`${prefix}could not record the host key of ${name} in ${file}: ${err.message}`),
          );
          return;
        }
      }
    };

    const config: ConnectConfig = {
      sock: sock as ConnectConfig['sock'],
      username: t.user,
      hostVerifier,
      readyTimeout: Math.max(connectTimeout, MIN_HANDSHAKE_TIMEOUT_MS),
      keepaliveInterval: this.#opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: 4,
      algorithms: {
        serverHostKey: preferredHostKeyAlgorithms(knownKeyTypes(known, t.hostname, t.port)) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'],
      },
    };
    let next = 0;
    config.authHandler = (_left, _partial, cb) => {
      const m = methods[next++];
      (cb as (m: AnyAuthMethod | false) => void)(m ?? false);
    };

    try {
      await new Promise<void>((resolve, reject) => {
        client.on('ready', () => resolve());
        client.on('error', (err: Error & { level?: string }) => {
          if (err.level === 'agent') {
            agentNotes.push(err.message);
            return;
          }
          reject(err);
        });
        client.on('close', () => reject(new Error('the connection closed during the SSH handshake')));
        // the server may have closed the socket while known_hosts was read (sshd MaxStartups):
        // ssh2 would never see that close and wait for the whole handshake timeout
        if (sock.destroyed || (sock as Duplex & { readableEnded?: boolean }).readableEnded) {
          reject(new Error('the connection closed during the SSH handshake'));
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
      if (hostKeyFailure) reason = hostKeyFailure;
      else if (level === 'client-authentication') {
        // every method was tried: report each one
        const list = tried.map((a) => `${a.what}: ${a.note}`).concat(agentNotes.map((n) => `ssh-agent: ${n}`));
        reason =
          `${prefix}authentication failed for user ${t.user} at ${hopLabel(t)}; tried ${list.join('; ')}. ` +
          `Fix: add one of these public keys to ~${t.user}/.ssh/authorized_keys on the host, or set the right user/identity in the inventory (or User/IdentityFile in the ssh config).`;
      } else if (level === 'client-timeout') {
        reason = `${prefix}SSH handshake with ${where} timed out after ${config.readyTimeout} ms (the server accepted TCP but did not finish the SSH handshake)`;
      } else if (/Connection lost before handshake|closed during the SSH handshake/.test((err as Error).message)) {
        reason = `${prefix}${hopLabel(t)} closed the connection before the SSH handshake finished (is it an SSH server? too many unauthenticated connections, sshd MaxStartups?)`;
      } else {
        reason = `${prefix}SSH handshake with ${where} failed: ${(err as Error).message}`;
      }
      throw new UnreachableError(this.host, reason, { cause: err });
    }
    client.removeAllListeners('ready');
    client.removeAllListeners('error');
    client.removeAllListeners('close');
    client.on('error', () => undefined);
    this.stats.handshakes++;
    return client;
  }

  /** Become applies: set on the host, not disabled for this call, and not logging in as root already. */
  #becomes(options: { noBecome?: boolean }): boolean {
    return this.#spec.become !== false && !options.noBecome && this.target.user !== 'root';
  }

  /**
   * Run a command (become applied by the caller) as `/bin/sh -c '<text>'` in a
   * new channel. With a timeout, the shell first reports its PID on stderr (a
   * marker line that is stripped again) so a timed-out command's whole process
   * group can be killed: OpenSSH refuses "signal" requests for root sessions.
   */
  async #exec(command: ShellCommand, stdin: string | Buffer | undefined, timeoutMs: number, become: boolean): Promise<RawOutput> {
    const release = await this.#slots.acquire();
    try {
      this.stats.peakChannels = this.#slots.peak;
      const conn = await this.#connection();
      this.stats.commands++;
      const withPid = timeoutMs > 0;
      const text = shDashC(withPid ? sh`printf ${PID_MARKER + '%s\\n'} "$$" >&2
${command}` : command).text;
      return await this.#execOn(conn, text, stdin, timeoutMs, withPid, become);
    } finally {
      release();
    }
  }

  /** Kill the process group of a timed-out command, in a separate channel (best effort). */
  #killRemote(conn: Connection, pid: number, become: boolean): Promise<void> {
    const kill = sh`/bin/sh -c ${KILL_TREE} cairn-kill ${pid}`;
    const text = shDashC(become ? wrapBecome(kill, this.#spec.become) : kill).text;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3000);
      try {
        conn.client.exec(text, (err, ch) => {
          if (err) {
            clearTimeout(timer);
            resolve();
            return;
          }
          ch.on('data', () => undefined);
          ch.stderr.on('data', () => undefined);
          ch.on('error', () => undefined);
          ch.on('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ch.end();
        });
      } catch {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  #execOn(conn: Connection, text: string, stdin: string | Buffer | undefined, timeoutMs: number, withPid: boolean, become: boolean): Promise<RawOutput> {
    const started = Date.now();
    return new Promise<RawOutput>((resolve, reject) => {
      const lostError = (): UnreachableError =>
        new UnreachableError(this.host, `the SSH connection to ${hopLabel(this.target)} was lost while a command ran${conn.lost ? ` (${conn.lost.message})` : ''}`, {
          cause: conn.lost,
        });
      const onOpen = (err: Error | undefined, ch: ClientChannel): void => {
        if (err) {
          reject(conn.lost ? lostError() : new Error(`${this.host}: could not open an SSH channel: ${err.message}`, { cause: err }));
          return;
        }
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let code: number | null | undefined;
        let signal: string | undefined;
        let timedOut = false;
        let done = false;
        let timer: NodeJS.Timeout | undefined;
        let fallback: NodeJS.Timeout | undefined;
        // the PID marker line at the start of stderr
        let pid: number | undefined;
        let head: Buffer | undefined = withPid ? Buffer.alloc(0) : undefined;
        const flushHead = (): void => {
          if (head && head.length) errs.push(head);
          head = undefined;
        };
        const finish = (): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          clearTimeout(fallback);
          flushHead();
          let stderr = Buffer.concat(errs);
          let exitCode: number;
          if (timedOut) {
            exitCode = TIMEOUT_EXIT_CODE;
            stderr = Buffer.concat([stderr, Buffer.from(timeoutNote(timeoutMs))]);
          } else if (typeof code === 'number') exitCode = code;
          else if (signal) exitCode = signalExitCode(signal);
          else if (conn.lost) {
            reject(lostError());
            return;
          } else {
            exitCode = 255;
            stderr = Buffer.concat([stderr, Buffer.from('cairn: the SSH channel closed without an exit status\n')]);
          }
          resolve({ exitCode, stdout: Buffer.concat(out), stderr, durationMs: Date.now() - started, timedOut });
        };
        ch.on('data', (b: Buffer) => out.push(b));
        ch.stderr.on('data', (b: Buffer) => {
          if (!head) {
            errs.push(b);
            return;
          }
          head = Buffer.concat([head, b]);
          const nl = head.indexOf(0x0a);
          if (nl < 0 && head.length < 64) return;
          const m = nl >= 0 ? PID_LINE.exec(head.subarray(0, nl + 1).toString('latin1')) : null;
          if (m) {
            pid = Number(m[1]);
            head = head.subarray(nl + 1);
          }
          flushHead();
        });
        ch.on('exit', (c: number | null, s?: string) => {
          code = c;
          if (s) signal = s;
        });
        ch.on('close', () => {
          if (ch.stderr.readableEnded || ch.stderr.destroyed) finish();
          else {
            ch.stderr.once('end', finish);
            fallback = setTimeout(finish, 200);
          }
        });
        ch.on('error', () => undefined);
        ch.stderr.on('error', () => undefined);
        if (stdin !== undefined) ch.end(stdin);
        else ch.end();
        if (timeoutMs > 0) {
          timer = setTimeout(() => {
            timedOut = true;
            // the kill script first: a signal request could kill sudo/doas alone
            // and orphan the command before its process tree can be walked
            if (pid === undefined) sendSignal(ch, 'KILL');
            const killed = pid !== undefined ? this.#killRemote(conn, pid, become) : Promise.resolve();
            void killed.then(() => {
              try {
                ch.close();
              } catch {
                /* already closing */
              }
              fallback = setTimeout(finish, 1000);
            });
          }, timeoutMs);
        }
      };
      // sshd frees a closed session a moment after confirming the close, so a
      // busy connection can briefly hit MaxSessions: retry opening, with backoff
      let attempt = 0;
      const open = (): void => {
        try {
          conn.client.exec(text, (err, ch) => {
            if (err && !conn.lost && /open failure/i.test(err.message) && attempt < CHANNEL_OPEN_RETRIES) {
              setTimeout(open, 10 * 2 ** attempt++);
              return;
            }
            onOpen(err, ch);
          });
        } catch (err) {
          conn.lost ??= err as Error;
          reject(lostError());
        }
      };
      open();
    });
  }


  /** Run with the raw bytes kept (for binary output). Same rules as run(). */
  async runRaw(command: ShellCommand, options: RunOptions = {}): Promise<RawOutput & { result: CommandResult }> {
    // OpenSSH drops the whole connection on an exec request with a NUL byte in it
    if (command.text.includes('\0')) throw new TypeError(`${this.host}: a command cannot contain a NUL byte: ${command.display}`);
    await this.#connection();
    const become = this.#becomes(options);
    const wrapped = become ? wrapBecome(command, this.#spec.become) : command;
    const raw = await this.#exec(wrapped, options.stdin, options.timeoutMs ?? this.#settings.commandTimeoutMs ?? 0, become);
    const result = toCommandResult(command, raw);
    if (become) {
      const failure = becomeFailure(this.host, result, this.#spec.become, this.target.user);
      if (failure) throw failure;
    }
    return { ...raw, result };
  }

  async run(command: ShellCommand, options: RunOptions = {}): Promise<CommandResult> {
    return (await this.runRaw(command, options)).result;
  }

  async #sftp(conn: Connection): Promise<SFTPWrapper | undefined> {
    const mode = this.#opts.transfer ?? 'auto';
    if (mode === 'exec') return undefined;
    conn.sftp ??= new Promise<SFTPWrapper | undefined>((resolve, reject) => {
      const onSftp = (err: Error | undefined, sftp: SFTPWrapper): void => {
        if (err) {
          this.stats.sftp = 'unavailable';
          if (mode === 'sftp') reject(new Error(`${this.host}: SFTP is not available: ${err.message}`, { cause: err }));
          else resolve(undefined);
          return;
        }
        this.stats.sftp = 'available';
        sftp.on('error', () => undefined);
        resolve(sftp);
      };
      try {
        conn.client.sftp(onSftp);
      } catch (err) {
        reject(err);
      }
    });
    return conn.sftp;
  }

  async upload(path: string, content: Buffer, options: { mode?: number } = {}): Promise<void> {
    const conn = await this.#connection();
    // with become the file must be written as root: SFTP runs as the login user
    const sftp = this.#becomes({}) ? undefined : await this.#sftp(conn);
    if (!sftp) {
      const res = await this.run(catUploadCommand(path, options.mode), { stdin: content });
      if (res.exitCode !== 0) throw new CommandFailedError(this.host, res, `upload to ${path}`);
      return;
    }
    try {
      await sftpWrite(sftp, path, content, options.mode);
    } catch (err) {
      throw new Error(`upload to ${this.host}:${path} over SFTP failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async download(path: string): Promise<Buffer | undefined> {
    const conn = await this.#connection();
    const sftp = this.#becomes({}) ? undefined : await this.#sftp(conn);
    if (!sftp) {
      const cmd = catDownloadCommand(path);
      const raw = await this.runRaw(cmd);
      if (raw.exitCode === MISSING_FILE_EXIT && raw.stdout.length === 0) return undefined;
      if (raw.exitCode !== 0) throw new CommandFailedError(this.host, raw.result, `download of ${path}`);
      return raw.stdout;
    }
    return new Promise((resolve, reject) => {
      sftp.readFile(path, (err: (Error & { code?: number }) | undefined, data: Buffer) => {
        if (err) {
          if (err.code === 2) resolve(undefined); // SSH_FX_NO_SUCH_FILE
          else reject(new Error(`download of ${this.host}:${path} over SFTP failed: ${err.message}`, { cause: err }));
          return;
        }
        resolve(data);
      });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const conn = this.#conn ?? (await this.#connecting?.catch(() => undefined));
    this.#conn = undefined;
    this.#connecting = undefined;
    if (!conn) return;
    conn.closing = true;
    const sftp = await conn.sftp?.catch(() => undefined);
    try {
      sftp?.end();
    } catch {
      /* ignore */
    }
    for (const c of [...conn.clients].reverse()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          c.destroy();
          resolve();
        }, 2000);
        c.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        try {
          c.end();
        } catch {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  }
}

/**
 * Ask sshd to signal the command's process group (OpenSSH killpg()s the
 * session). ssh2's Channel.signal() refuses once stdin is closed (EOF sent),
 * which is always the case here, so the request is sent directly.
 */
function sendSignal(ch: ClientChannel, name: string): void {
  const c = ch as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
  };
  try {
    if (c.outgoing && (c.outgoing.state === 'open' || c.outgoing.state === 'eof') && c._client?._protocol?.signal) {
      c._client._protocol.signal(c.outgoing.id, name);
    } else ch.signal(name);
  } catch {
    /* the server may not support signals: closing the channel still ends the wait */
  }
}

function sftpCall<T>(fn: (cb: (err: Error | undefined | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** Write a whole file over SFTP: open (create/truncate) with the mode, write in chunks, fchmod, close. */
async function sftpWrite(sftp: SFTPWrapper, path: string, content: Buffer, mode?: number): Promise<void> {
  const handle = await sftpCall<Buffer>((cb) => sftp.open(path, 'w', mode !== undefined ? { mode } : {}, cb));
  const closeHandle = (): Promise<void> => sftpCall<void>((cb) => sftp.close(handle, (err) => cb(err, undefined)));
  try {
    const CHUNK = 32 * 1024;
    for (let off = 0; off < content.length; off += CHUNK) {
      const len = Math.min(CHUNK, content.length - off);
      await sftpCall<void>((cb) => sftp.write(handle, content, off, len, off, (err) => cb(err, undefined)));
    }
    if (mode !== undefined) await sftpCall<void>((cb) => sftp.fchmod(handle, mode, (err) => cb(err, undefined)));
  } catch (err) {
    await closeHandle().catch(() => undefined);
    throw err;
  }
  await closeHandle();
}
