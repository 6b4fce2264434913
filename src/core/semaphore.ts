/** A counting semaphore, FIFO: --forks, role-level serial limits, SSH channels per connection. */
export class Semaphore {
  readonly size: number;
  #active = 0;
  readonly #waiters: (() => void)[] = [];
  /** Highest number of holders seen at once (for stats and tests). */
  peak = 0;
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`semaphore size must be a positive integer, got ${size}`);
    this.size = size;
  }
  get active(): number {
    return this.#active;
  }
  async acquire(): Promise<() => void> {
    if (this.#active >= this.size) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    else this.#active++;
    this.peak = Math.max(this.peak, this.#active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next(); // hand the slot over
      else this.#active--;
    };
  }
  async use<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
