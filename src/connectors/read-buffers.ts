/**
 * The read buffers of one stdin stream: a controller file is read into these, and each
 * is read into again once the stream's write callback said it took what the buffer held
 * (ssh2 copies a chunk into its packets before it calls back; pipes call back once the
 * kernel has the bytes). A 30 MiB upload to 100 hosts then allocates a few buffers per
 * stream instead of 3 GB of garbage the garbage collector frees late.
 */
export class ReadBuffers {
  readonly #free: Buffer[] = [];
  #made = 0;
  #waiting: ((b: Buffer | undefined) => void) | undefined;
  #closed = false;

  /** At most `count` buffers of `size` bytes, allocated when first needed. */
  constructor(
    readonly size: number,
    readonly count: number,
  ) {}

  /** A buffer to read into; waits for one given back; undefined once closed. */
  take(): Promise<Buffer | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    const free = this.#free.pop();
    if (free) return Promise.resolve(free);
    if (this.#made < this.count) {
      this.#made++;
      return Promise.resolve(Buffer.allocUnsafe(this.size));
    }
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  /** A buffer the stream is done with. */
  give(b: Buffer): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(b);
    else this.#free.push(b);
  }

  /** The stream is gone: a waiting take() gets undefined, and so does every later one. */
  close(): void {
    this.#closed = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(undefined);
  }
}
