/** Delays between retries of a failing operation: doubling from `firstMs` up to `maxMs`, reset on success. */
export class Backoff {
  readonly #first: number;
  readonly #max: number;
  #next: number;

  constructor(firstMs = 100, maxMs = 5000) {
    this.#first = firstMs;
    this.#max = maxMs;
    this.#next = firstMs;
  }

  /** the delay before the next retry (each call doubles the following one) */
  next(): number {
    const d = this.#next;
    this.#next = Math.min(this.#max, this.#next * 2);
    return d;
  }

  reset(): void {
    this.#next = this.#first;
  }
}
