import type { SFTPWrapper } from 'ssh2';
import type { Connection } from './connection.ts';
import type { SshConnectorOptions, SshStats } from './options.ts';

/**
 * The connection's SFTP session, opened once. undefined: use `cat` instead
 * (transfer 'exec', or 'auto' and the host has no SFTP); transfer 'sftp' and no
 * SFTP is an error.
 */
export function sftpSession(conn: Connection, host: string, mode: NonNullable<SshConnectorOptions['transfer']>, stats: SshStats): Promise<SFTPWrapper | undefined> {
  if (mode === 'exec') return Promise.resolve(undefined);
  conn.sftp ??= new Promise<SFTPWrapper | undefined>((resolve, reject) => {
    const onSftp = (err: Error | undefined, sftp: SFTPWrapper): void => {
      if (err) {
        stats.sftp = 'unavailable';
        if (mode === 'sftp') reject(new Error(`${host}: SFTP is not available: ${err.message}`, { cause: err }));
        else resolve(undefined);
        return;
      }
      stats.sftp = 'available';
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

function sftpCall<T>(fn: (cb: (err: Error | undefined | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** Write a whole file over SFTP: open (create/truncate) with the mode, write in chunks, fchmod, close. */
export async function sftpWrite(sftp: SFTPWrapper, path: string, content: Buffer, mode?: number): Promise<void> {
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

/** Read a whole file over SFTP; undefined if it does not exist. Errors are the server's. */
export function sftpRead(sftp: SFTPWrapper, path: string): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    sftp.readFile(path, (err: (Error & { code?: number }) | undefined, data: Buffer) => {
      if (err) {
        if (err.code === 2) resolve(undefined); // SSH_FX_NO_SUCH_FILE
        else reject(err);
        return;
      }
      resolve(data);
    });
  });
}
