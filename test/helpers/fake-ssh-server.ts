import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel } from 'ssh2';
import type { HostSpec } from '../../src/inventory/types.ts';

const { Server, utils } = ssh2;
const { STATUS_CODE } = utils.sftp;

/**
 * A controller-side SSH server (ssh2's Server) on 127.0.0.1 for connector unit
 * tests: accepts any key, runs exec requests through `exec`, and has an SFTP
 * subsystem that keeps written files in memory.
 */
export interface FakeSshServer {
  host: '127.0.0.1';
  port: number;
  /** Bytes written over SFTP, by path (complete once the handle is closed). */
  files: Map<string, Buffer>;
  /** Exec requests received, in order. */
  commands: string[];
  /** Connections accepted so far. */
  connections: number;
  /** SFTP subsystems opened so far. */
  sftpSessions: number;
  /** Passwords checked (password and keyboard-interactive answers), by method, in order. */
  passwordAttempts: { method: 'password' | 'keyboard-interactive'; user: string }[];
  close(): Promise<void>;
}

/** How the server logs users in; without it every key is accepted. */
export interface FakeSshAuth {
  /** The methods the server accepts (sent back after 'none' and refusals). */
  methods: ('publickey' | 'password' | 'keyboard-interactive')[];
  /** The one right password. */
  password: string;
  /** keyboard-interactive prompts (default ['Password: ']); each answer must be the password. */
  prompts?: string[];
}

export interface FakeSshServerOptions {
  /** Answer an exec request; default: exit 0 with no output. */
  exec?: (command: string, ch: ServerChannel) => void;
  auth?: FakeSshAuth;
}

/**
 * An ed25519 key pair in OpenSSH format. ssh2's generator now and then writes
 * a private key its own parser rejects ("Malformed OpenSSH private key"):
 * such a pair is made again.
 */
export function keyPair(): { private: string; public: string } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}

export async function startFakeSshServer(o: FakeSshServerOptions = {}): Promise<FakeSshServer> {
  const hostKey = keyPair();
  const files = new Map<string, Buffer>();
  const commands: string[] = [];
  const clients = new Set<Connection>();
  const state = { connections: 0, sftpSessions: 0 };
  const passwordAttempts: FakeSshServer['passwordAttempts'] = [];
  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    state.connections++;
    clients.add(client);
    client.on('error', () => undefined);
    client.on('close', () => clients.delete(client));
    client.on('authentication', (ctx) => {
      const auth = o.auth;
      if (!auth) return ctx.accept();
      const allowed: ssh2.AuthenticationType[] = auth.methods;
      if (!(allowed as string[]).includes(ctx.method)) return ctx.reject(allowed);
      if (ctx.method === 'publickey') return ctx.accept();
      if (ctx.method === 'password') {
        passwordAttempts.push({ method: 'password', user: ctx.username });
        return ctx.password === auth.password ? ctx.accept() : ctx.reject(allowed);
      }
      if (ctx.method === 'keyboard-interactive') {
        const prompts = (auth.prompts ?? ['Password: ']).map((prompt) => ({ prompt, echo: false }));
        ctx.prompt(prompts, 'login', (answers) => {
          passwordAttempts.push({ method: 'keyboard-interactive', user: ctx.username });
          return answers.length === prompts.length && answers.every((a) => a === auth.password) ? ctx.accept() : ctx.reject(allowed);
        });
        return;
      }
      ctx.reject(allowed);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (accept, _reject, info) => {
          commands.push(info.command);
          const ch = accept();
          ch.on('error', () => undefined);
          if (o.exec) o.exec(info.command, ch);
          else {
            ch.exit(0);
            ch.end();
          }
        });
        session.on('sftp', (accept) => {
          state.sftpSessions++;
          const sftp = accept();
          sftp.on('error', () => undefined);
          const open = new Map<string, { path: string; chunks: Buffer[] }>();
          let next = 0;
          sftp.on('OPEN', (reqid, filename) => {
            const h = Buffer.from(String(next++));
            open.set(h.toString(), { path: filename, chunks: [] });
            sftp.handle(reqid, h);
          });
          sftp.on('WRITE', (reqid, handle, _offset, data) => {
            open.get(handle.toString())?.chunks.push(Buffer.from(data));
            sftp.status(reqid, STATUS_CODE.OK);
          });
          sftp.on('FSETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
          sftp.on('CLOSE', (reqid, handle) => {
            const f = open.get(handle.toString());
            if (f) files.set(f.path, Buffer.concat(f.chunks));
            open.delete(handle.toString());
            sftp.status(reqid, STATUS_CODE.OK);
          });
        });
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    host: '127.0.0.1',
    port,
    files,
    commands,
    passwordAttempts,
    get connections() {
      return state.connections;
    },
    get sftpSessions() {
      return state.sftpSessions;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const c of clients) c.end();
        server.close(() => r());
      }),
  };
}

/**
 * A host for a connector test: root@host:port with a fresh key, its own
 * known_hosts (new keys accepted), no ssh_config and no agent. Pass `options`
 * to the connector.
 */
export function fakeHost(name: string, port: number, host = '127.0.0.1') {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-fake-ssh-'));
  const key = keyPair();
  const keyFile = join(dir, 'id_ed25519');
  writeFileSync(keyFile, key.private, { mode: 0o600 });
  const spec: HostSpec = { name, connection: 'ssh', address: host, port, user: 'root', identity: [keyFile], become: false, vars: {}, groups: [], location: { file: 'inv.yml' } };
  return {
    spec,
    settings: { connectTimeoutMs: 3000, commandTimeoutMs: 0, sshConfig: '/dev/null', knownHosts: join(dir, 'known_hosts') },
    options: { acceptNewHostKeys: true, agent: null, home: dir },
  };
}
