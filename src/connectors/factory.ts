import type { Connector } from './connector.ts';
import type { ConnectionSettings, HostSpec } from '../inventory/types.ts';
import { SshConnector, type SshConnectorOptions } from './ssh/connector.ts';
import { LocalConnector } from './local.ts';
import { ChrootConnector } from './chroot.ts';

export interface CreateConnectorOptions extends SshConnectorOptions {
  /** Record unknown ssh host keys (--accept-new-host-keys). Changed keys are always refused. */
  acceptNewHostKeys?: boolean;
}

/** The connector for a host, by its `connection` (ssh, local or chroot). Nothing is opened yet. */
export function createConnector(host: HostSpec, settings: ConnectionSettings, opts: CreateConnectorOptions = {}): Connector {
  switch (host.connection) {
    case 'ssh':
      return new SshConnector(host, settings, opts);
    case 'local':
      return new LocalConnector(host, settings);
    case 'chroot':
      return new ChrootConnector(host, settings);
    default: {
      const never: never = host.connection;
      throw new Error(`host ${(host as HostSpec).name}: unknown connection ${String(never)}`);
    }
  }
}
