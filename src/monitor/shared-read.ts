/**
 * One Redis read shared by every host monitor of a process: the first caller after `maxAgeMs` starts
 * it, everyone else gets the same promise. A failed read is not kept, so the next caller asks again.
 */
export class SharedRead<T> {
  private cached?: { at: number; value: Promise<T> };

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: number,
  ) {}

  get(now = Date.now()): Promise<T> {
    if (!this.cached || now - this.cached.at >= this.maxAgeMs) {
      const value = this.read();
      this.cached = { at: now, value };
      value.catch(() => {
        if (this.cached?.value === value) this.cached = undefined;
      });
    }
    return this.cached.value;
  }

  /** This process just changed what is read: the next get() goes to Redis. */
  invalidate(): void {
    this.cached = undefined;
  }
}
