/**
 * Stop strings over streamed text: text is released only once it cannot be the start of a
 * stop string, so a stop string split over several tokens never reaches the caller, and the
 * text before it always does.
 */
export class StopMatcher {
  /** text received but not yet released (it may be the start of a stop string) */
  private held = "";
  private stoppedAt = -1;

  constructor(private readonly stops: readonly string[]) {}

  get stopped(): boolean {
    return this.stoppedAt >= 0;
  }

  /**
   * Adds generated text; returns what may be released now. Once a stop string is complete,
   * returns the text before it and `stopped` turns true; later pushes return "".
   */
  push(text: string): string {
    if (this.stopped) return "";
    this.held += text;
    if (this.stops.length === 0) return this.release(this.held.length);
    const at = this.firstStop();
    if (at >= 0) {
      this.stoppedAt = at;
      const out = this.held.slice(0, at);
      this.held = "";
      return out;
    }
    return this.release(this.held.length - this.longestPartialStop());
  }

  /** The text still held at the end of generation (no stop string completed). */
  flush(): string {
    return this.stopped ? "" : this.release(this.held.length);
  }

  private release(nChars: number): string {
    const out = this.held.slice(0, nChars);
    this.held = this.held.slice(nChars);
    return out;
  }

  /** index of the earliest complete stop string in the held text, or −1 */
  private firstStop(): number {
    let first = -1;
    for (const stop of this.stops) {
      const at = this.held.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    return first;
  }

  /** length of the longest suffix of the held text that is a proper prefix of a stop string */
  private longestPartialStop(): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, this.held.length); n > longest; n--) {
        if (this.held.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
