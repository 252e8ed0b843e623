/**
 * A queue of encoded row chunks between the generator and one consumer (a COPY stream or a spool
 * file). The producer pushes a chunk with a callback; the callback runs when the consumer has
 * taken the chunk, which is how generator threads get their credit back (backpressure).
 */
export class ChunkChannel implements AsyncIterable<Uint8Array> {
  private readonly queue: { bytes: Uint8Array; taken: () => void }[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private failure: unknown;

  /** Chunks pushed but not yet taken. */
  get pending(): number {
    return this.queue.length;
  }

  push(bytes: Uint8Array, taken: () => void): void {
    if (this.closed) {
      taken();
      return;
    }
    this.queue.push({ bytes, taken });
    this.notify();
  }

  /** No more chunks: the consumer ends after the queued ones. */
  close(): void {
    this.closed = true;
    this.notify();
  }

  /** Ends the consumer with an error (the COPY is aborted). */
  fail(error: unknown): void {
    this.failure = error ?? new Error('aborted');
    this.closed = true;
    for (const item of this.queue.splice(0)) item.taken();
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        if (this.failure !== undefined) throw this.failure;
        const item = this.queue.shift();
        if (item) {
          item.taken();
          yield item.bytes;
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((resolve) => { this.wake = resolve; });
      }
    } finally {
      // The consumer stopped (done, or failed on its side): later pushes are acknowledged and dropped.
      this.closed = true;
      for (const item of this.queue.splice(0)) item.taken();
    }
  }
}
