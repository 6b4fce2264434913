import type { Client, SFTPWrapper } from 'ssh2';

/** One open SSH connection to a host, through its jump hosts. */
export interface Connection {
  /** First hop first; the last one is the target. */
  clients: Client[];
  client: Client;
  lost?: Error;
  closing: boolean;
  sftp?: Promise<SFTPWrapper | undefined>;
}
