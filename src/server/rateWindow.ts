/** Events per second over a sliding window, kept in fixed buckets (no per-event memory). */
export class RateWindow {
  private readonly counts: number[];
  private readonly stamps: number[];

  /**
   * @param windowMs how far back the rate looks
   * @param bucketMs the window's resolution
   */
  constructor(
    private readonly windowMs = 5000,
    private readonly bucketMs = 250,
    private readonly now: () => number = () => performance.now(),
  ) {
    const n = Math.ceil(windowMs / bucketMs);
    this.counts = new Array<number>(n).fill(0);
    this.stamps = new Array<number>(n).fill(-1);
  }

  add(count = 1): void {
    const slot = Math.floor(this.now() / this.bucketMs);
    const i = slot % this.counts.length;
    if (this.stamps[i] !== slot) {
      this.stamps[i] = slot;
      this.counts[i] = 0;
    }
    this.counts[i] += count;
  }

  /** events per second over the window */
  perSecond(): number {
    const current = Math.floor(this.now() / this.bucketMs);
    const oldest = current - this.counts.length + 1;
    let sum = 0;
    for (let i = 0; i < this.counts.length; i++) if (this.stamps[i] >= oldest) sum += this.counts[i];
    return sum / (this.windowMs / 1000);
  }
}
