/** A counting semaphore: at most `max` holders at once, FIFO. */
export class Limit {
  readonly max: number;
  #active = 0;
  #waiting: Array<() => void> = [];
  /** Highest number of holders seen at once (for tests and stats). */
  peak = 0;

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError('Limit needs max >= 1');
    this.max = max;
  }

  get active(): number {
    return this.#active;
  }

  async acquire(): Promise<() => void> {
    if (this.#active >= this.max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    this.peak = Math.max(this.peak, this.#active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
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
