import type { Connection } from './connection.ts';

/** End the SFTP session, then each client (destroyed at once if the connection was lost) from the target back to the first hop (each given 2 s, then destroyed). */
export async function closeConnection(conn: Connection): Promise<void> {
  conn.closing = true;
  const session = await conn.sftp?.catch(() => undefined);
  try {
    session?.sftp.end();
  } catch {
    /* ignore */
  }
  if (conn.ended.reason) {
    // already lost: nothing would answer an orderly end
    for (const c of [...conn.clients].reverse()) c.destroy();
    return;
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
