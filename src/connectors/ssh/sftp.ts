import type { SFTPWrapper } from 'ssh2';
import type { Connection } from './connection.ts';
import { EndSignal } from './end-signal.ts';
import type { SshConnectorOptions, SshStats } from './options.ts';

/** An SFTP session and its end (its channel closed, or the connection lost): every request is raced against it. */
export interface SftpSession {
  sftp: SFTPWrapper;
  gone: EndSignal;
}

/**
 * The connection's SFTP session, opened once (again after it ended). undefined:
 * use `cat` instead (transfer 'exec', or 'auto' and the host has no SFTP);
 * transfer 'sftp' and no SFTP is an error.
 */
export function sftpSession(conn: Connection, host: string, mode: NonNullable<SshConnectorOptions['transfer']>, stats: SshStats): Promise<SftpSession | undefined> {
  if (mode === 'exec') return Promise.resolve(undefined);
  // one session per connection: a second open would be a channel nobody uses, and its
  // rejection (the connection lost) nobody's to catch
  if (conn.sftp) return conn.sftp;
  const opening = new Promise<SftpSession | undefined>((resolve, reject) => {
    const onSftp = (err: Error | undefined, sftp: SFTPWrapper): void => {
      if (err) {
        if (conn.ended.reason) return reject(conn.ended.reason);
        stats.sftp = 'unavailable';
        if (mode === 'sftp') reject(new Error(`${host}: SFTP is not available: ${err.message}`, { cause: err }));
        else resolve(undefined);
        return;
      }
      stats.sftp = 'available';
      const gone = new EndSignal();
      const off = conn.ended.onEnd((r) => gone.end(r));
      const closed = (): void => {
        off();
        gone.end(conn.ended.reason ?? new Error('the SFTP session was closed'));
        if (conn.sftp === session) conn.sftp = undefined;
      };
      sftp.on('error', () => undefined);
      sftp.on('end', closed);
      sftp.on('close', closed);
      resolve({ sftp, gone });
    };
    try {
      conn.client.sftp(onSftp);
    } catch (err) {
      reject(err);
    }
  });
  const session = conn.ended.race(opening);
  conn.sftp = session;
  return session;
}

function sftpCall<T>(s: SftpSession, fn: (cb: (err: Error | undefined | null, v: T) => void) => void): Promise<T> {
  if (s.gone.reason) return Promise.reject(s.gone.reason);
  return s.gone.race(new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v)))));
}

/**
 * Write a whole file over SFTP: open (create/truncate) with the mode, write in
 * chunks, fchmod, close. Each request is raced against the session's end: a
 * request sent on a closed channel is never answered.
 */
export async function sftpWrite(s: SftpSession, path: string, content: Buffer, mode?: number): Promise<void> {
  const { sftp } = s;
  const handle = await sftpCall<Buffer>(s, (cb) => sftp.open(path, 'w', mode !== undefined ? { mode } : {}, cb));
  const closeHandle = (): Promise<void> => sftpCall<void>(s, (cb) => sftp.close(handle, (err) => cb(err, undefined)));
  try {
    const CHUNK = 32 * 1024;
    for (let off = 0; off < content.length; off += CHUNK) {
      const len = Math.min(CHUNK, content.length - off);
      await sftpCall<void>(s, (cb) => sftp.write(handle, content, off, len, off, (err) => cb(err, undefined)));
    }
    if (mode !== undefined) await sftpCall<void>(s, (cb) => sftp.fchmod(handle, mode, (err) => cb(err, undefined)));
  } catch (err) {
    // best effort, and not at all once the session is gone (no answer would come)
    if (!s.gone.reason) await closeHandle().catch(() => undefined);
    throw err;
  }
  await closeHandle();
}

/** Read a whole file over SFTP; undefined if it does not exist. Errors are the server's, or the session's end. */
export function sftpRead(s: SftpSession, path: string): Promise<Buffer | undefined> {
  return sftpCall<Buffer | undefined>(s, (cb) =>
    s.sftp.readFile(path, (err: (Error & { code?: number }) | undefined, data: Buffer) => {
      if (err && err.code === 2) cb(undefined, undefined); // SSH_FX_NO_SUCH_FILE
      else cb(err, data);
    }),
  );
}
