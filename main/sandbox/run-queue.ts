// At most `limit()` runs hold a slot at once; the others wait first come, first served. A waiting
// run can leave the queue (cancel), and closing the queue turns every waiter away, so nothing
// queued starts after shutdown has begun.
export class RunQueue {
  private running = 0;
  private readonly waiting: ((granted: boolean) => void)[] = [];
  private closed = false;

  constructor(private readonly limit: () => number) {}

  /**
   * Waits for a slot. Resolves true with the slot held, false when the run left the queue or the
   * queue closed. `onQueued` receives a function that takes this waiter out of the queue.
   */
  acquire(onQueued: (leave: () => void) => void): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.running < this.limit() && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      this.waiting.push(resolve);
      onQueued(() => {
        const i = this.waiting.indexOf(resolve);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(false);
      });
    });
  }

  /** Frees a slot, handing it straight to the longest-waiting run, if any. */
  release(): void {
    this.running--;
    while (!this.closed && this.running < this.limit() && this.waiting.length > 0) {
      this.running++;
      this.waiting.shift()!(true);
    }
  }

  /** Turns away every waiter and every later arrival. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(false);
  }

  get size(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
