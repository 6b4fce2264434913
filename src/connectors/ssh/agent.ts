import ssh2 from 'ssh2';
import type { IdentityCallback, ParsedKey } from 'ssh2';

const { OpenSSHAgent } = ssh2;

/**
 * An ssh-agent that offers only some of its keys: IdentitiesOnly yes in
 * OpenSSH uses the agent only for keys whose IdentityFile (or its .pub) is
 * configured, e.g. a passphrase-protected key loaded into the agent.
 */
export class FilteredAgent extends OpenSSHAgent {
  readonly #allowed: ReadonlySet<string>;

  /** `allowed`: public key blobs (getPublicSSH()), base64. */
  constructor(socketPath: string, allowed: ReadonlySet<string>) {
    super(socketPath);
    this.#allowed = allowed;
  }

  override getIdentities(cb: IdentityCallback<ParsedKey>): void {
    super.getIdentities((err, keys) => {
      if (err) return cb(err);
      cb(undefined, (keys ?? []).filter((k) => 'getPublicSSH' in k && this.#allowed.has(k.getPublicSSH().toString('base64'))));
    });
  }
}
