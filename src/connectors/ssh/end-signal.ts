/**
 * Whether something long-lived (an SSH connection, an SFTP session) has ended,
 * and why. Work that waits on it is raced against the end: a callback of a
 * closed ssh2 connection or channel may never come.
 */
export class EndSignal {
  #reason?: Error;
  readonly #listeners = new Set<(reason: Error) => void>();

  /** Why it ended; undefined while it is up. */
  get reason(): Error | undefined {
    return this.#reason;
  }

  /** Mark it ended (the first reason is kept) and tell everyone waiting. */
  end(reason: Error): void {
    if (this.#reason) return;
    this.#reason = reason;
    for (const l of [...this.#listeners]) l(reason);
    this.#listeners.clear();
  }

  /** Call `fn` once it ends (now if it has); returns the unsubscribe. */
  onEnd(fn: (reason: Error) => void): () => void {
    if (this.#reason) {
      fn(this.#reason);
      return () => undefined;
    }
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** `work`, or a rejection with `wrap(reason)` as soon as it ends, whichever comes first. */
  race<T>(work: Promise<T>, wrap: (reason: Error) => Error = (r) => r): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const off = this.onEnd((r) => reject(wrap(r)));
      work.then(
        (v) => {
          off();
          resolve(v);
        },
        (err: unknown) => {
          off();
          reject(err);
        },
      );
    });
  }
}
