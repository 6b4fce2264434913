import type { Client } from 'ssh2';
import { EndSignal } from './end-signal.ts';
import type { SftpSession } from './sftp.ts';

/** One open SSH connection to a host, through its jump hosts. */
export interface Connection {
  /** First hop first; the last one is the target. */
  clients: Client[];
  client: Client;
  /** Ends (with the reason) when any client fails or closes, unless cairn is closing it. */
  ended: EndSignal;
  closing: boolean;
  sftp?: Promise<SftpSession | undefined>;
}

/** A connection over these clients, watched for its whole life: an error or close of any of them is the connection lost. */
export function watchConnection(clients: Client[]): Connection {
  const conn: Connection = { clients, client: clients[clients.length - 1]!, ended: new EndSignal(), closing: false };
  for (const c of clients) {
    c.on('error', (err: Error) => conn.ended.end(err));
    const closed = (): void => {
      if (!conn.closing) conn.ended.end(new Error('the SSH connection was closed'));
    };
    c.on('end', closed);
    c.on('close', closed);
  }
  return conn;
}
